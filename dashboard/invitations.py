"""Member invitations as the members page makes them: the storefront_settings verb, then the email
that carries the link, in one transaction.

The link is a credential, so it is a sealed value of the outbox
(notifications.services.outbox.schedule): encrypted in the message row until the email is handed to
the ESP and dropped then, and read as "[hidden]" in the stored context and in the body kept as
sent. The emails log, its preview, the messages API and admin never show it; the invitation itself
keeps only the token's hash.
"""

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from notifications.models import Audience, Message, MessageKind
from notifications.services import outbox
from storefront_settings.models import Invitation, Storefront
from storefront_settings.services import members

TEMPLATE = "member_invitation"


def _group(invitation: Invitation) -> str:
    return f"invitation:{invitation.pk}"


def _email(issued: members.IssuedInvitation) -> Message:
    invitation = issued.invitation
    storefront = invitation.storefront
    # An email of this invitation still waiting to go carries a token that no longer works.
    outbox.cancel(storefront, _group(invitation))
    inviter = invitation.invited_by
    return outbox.schedule(
        storefront,
        to=invitation.email,
        template=TEMPLATE,
        # The same words whether or not the address has an account: the inviter can read this
        # email in the log, and must learn nothing about the address from it.
        context={
            "inviter": (inviter.email or inviter.get_username()) if inviter else "",
            "role": invitation.role,
            "days": Invitation.LIFETIME.days,
        },
        sealed={"accept_url": settings.SITE_URL + reverse("join", args=[issued.token])},
        send_at=timezone.now(),
        # One email per token: a resend is a new token, so a new email.
        idempotency_key=f"invitation:{invitation.pk}:{invitation.token_hash[:16]}",
        group=_group(invitation),
        kind=MessageKind.MEMBER_INVITATION,
        audience=Audience.MERCHANT,
        locale=storefront.language,
        about=invitation,
    )


@transaction.atomic
def invite(*, storefront: Storefront, email: str, role: str, actor) -> Invitation:
    issued = members.invite_member(storefront=storefront, email=email, role=role, actor=actor)
    _email(issued)
    return issued.invitation


@transaction.atomic
def resend(*, storefront: Storefront, invitation: Invitation, actor) -> Invitation:
    """Raises services.InvitationNotOpen for an invitation accepted or revoked meanwhile."""
    issued = members.resend_invitation(storefront=storefront, invitation=invitation, actor=actor)
    _email(issued)
    return issued.invitation


@transaction.atomic
def revoke(*, storefront: Storefront, invitation: Invitation, actor) -> bool:
    revoked = members.revoke_invitation(storefront=storefront, invitation=invitation, actor=actor)
    if revoked:
        outbox.cancel(storefront, _group(invitation))
    return revoked
