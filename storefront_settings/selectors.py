"""Read queries. Every one that serves a merchant takes the storefront (or the user) first."""

from django.http import Http404

from storefront_settings.models import ApiKey, Membership, ProviderSecret, Storefront


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
