"""Read queries. Every one that serves a merchant takes the storefront (or the user) first."""

from django.contrib.auth import get_user_model
from django.http import Http404
from django.utils import timezone

from storefront_settings.models import ApiKey, Invitation, Membership, ProviderSecret, Storefront


def storefronts_for_user(*, user):
    return Storefront.objects.filter(memberships__user=user).order_by("name")


def membership_for_slug(*, user, slug: str) -> Membership:
    """The user's membership of the storefront with this slug, the storefront loaded with it, in
    one query; Http404 for a storefront that does not exist and for one that is not theirs
    alike, so existence is not revealed."""
    # Through the user's own memberships: the access check is the lookup itself.
    member = user.memberships.select_related("storefront").filter(storefront__slug=slug).first()
    if member is None:
        raise Http404("No such storefront.")
    return member


def api_keys(*, storefront: Storefront):
    return ApiKey.objects.for_storefront(storefront).order_by("-created_at")


def active_provider_secrets(*, storefront: Storefront, provider: str) -> list[str]:
    """Every active secret of a provider, newest first: any of them may sign a webhook."""
    return list(
        ProviderSecret.objects.for_storefront(storefront)
        .filter(provider=provider, revoked_at__isnull=True)
        .order_by("-created_at")
        .values_list("secret", flat=True)
    )


def webhook_path(*, storefront: Storefront, provider: str) -> str:
    """The path a provider posts to: /webhooks/<provider>/<public id>/."""
    return f"/webhooks/{provider}/{storefront.public_id}/"


def invitations_not_accepted(*, storefront: Storefront):
    """The invitations still waiting for an answer (expired ones too, which may be resent),
    oldest first."""
    return (
        Invitation.objects.for_storefront(storefront)
        .filter(accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("invited_by")
        .order_by("created_at", "pk")
    )


def open_invitation(*, token: str) -> Invitation | None:
    """The open invitation (not accepted, revoked or expired) this token is the current token
    of, with its storefront; None for any other token."""
    # Crossing tenants is the point here: the token is what tells us the storefront.
    invitation = (
        Invitation.unscoped.select_related("storefront", "invited_by")
        .filter(token_hash=Invitation.hash_token(token))
        .first()
    )
    if invitation is None or not invitation.is_open(timezone.now()):
        return None
    return invitation


def invited_account(*, invitation: Invitation):
    """The user whose login is the invited address, or None."""
    return get_user_model().objects.filter(username__iexact=invitation.email).first()
