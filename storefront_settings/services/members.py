"""A storefront's members: invited, accepting, given a role, removed."""

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from storefront_settings import selectors
from storefront_settings.models import AuditAction, Invitation, Membership, Storefront
from storefront_settings.services._common import member_label
from storefront_settings.services.audit import record
from storefront_settings.tenancy import lock_keys

# Members: invited, given a role, removed by the storefront's owners (the dashboard checks who
# may ask). A storefront always keeps one owner: the owners' rows are locked before they are
# counted, so two owners demoting each other at the same moment cannot both succeed.


def _locked_member(storefront: Storefront, membership: Membership) -> tuple[Membership, bool]:
    """The member's row, locked, and whether they are the storefront's only owner. The owners'
    rows are locked first, always in the same order, so that concurrent role changes queue up
    behind one another instead of deadlocking."""
    owners = list(
        Membership.objects.for_storefront(storefront)
        .filter(role=Membership.Role.OWNER)
        .select_for_update()
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    row = (
        Membership.objects.for_storefront(storefront)
        .select_related("user")
        .select_for_update(of=("self",))
        .get(pk=membership.pk)
    )
    return row, owners == [row.pk]


# Invitations. An owner names an address; the token that lets its reader join goes into the
# email to that address and nowhere else (the inviter's page, the emails log, the audit log and
# the database hold none of it: the invitation keeps the token's hash). Nothing here looks at
# whether the address already has an account, so the inviter learns nothing about it; the
# acceptance page, which only the address's reader reaches, is where that matters.


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    token: str  # for the email's link only: not stored, never shown to the inviter


class InvitationNotOpen(Exception):
    """No open invitation has this token: forged, replaced by a resend, revoked, used or
    expired (the acceptance page treats them all alike)."""


class WrongAccount(Exception):
    """The invitation is for another address than the account accepting it."""


class PasswordNeeded(Exception):
    """The invited address has an account with a password: its owner signs in to accept."""


def normalise_invited_email(email: str) -> str:
    email = email.strip().lower()
    validate_email(email)
    return email


def _issue(invitation: Invitation, now) -> str:
    token = secrets.token_urlsafe(32)
    invitation.token_hash = Invitation.hash_token(token)
    invitation.sent_at = now
    invitation.expires_at = now + Invitation.LIFETIME
    return token


def _is_member(storefront: Storefront, email: str) -> bool:
    # Users log in with their email as username (create_storefront makes them so).
    return (
        Membership.objects.for_storefront(storefront).filter(user__username__iexact=email).exists()
    )


@transaction.atomic
def invite_member(*, storefront: Storefront, email: str, role: str, actor=None) -> IssuedInvitation:
    """Invite an address to become a member with this role once it accepts. An open invitation
    to the same address is renewed instead (this role, a new token, three days from now; its
    old link stops working). Refuses (ValidationError) an address that is already a member."""
    if role not in Membership.Role.values:
        raise ValidationError(f"unknown role {role!r}")
    email = normalise_invited_email(email)
    # Two owners inviting one address at once: the second waits, then renews the first's row.
    lock_keys([f"invitation:{storefront.pk}:{email}"])
    if _is_member(storefront, email):
        raise ValidationError(f"{email} is already a member of this storefront")
    now = timezone.now()
    invitation = (
        Invitation.objects.for_storefront(storefront)
        .filter(email=email, accepted_at__isnull=True, revoked_at__isnull=True)
        .first()
    ) or Invitation(storefront=storefront, email=email)
    invitation.role = role
    invitation.invited_by = actor
    token = _issue(invitation, now)
    invitation.save()
    record(
        storefront=storefront,
        actor=actor,
        action=AuditAction.MEMBER_INVITED,
        email=email,
        role=role,
    )
    return IssuedInvitation(invitation, token)


def _locked_open_invitation(storefront: Storefront, invitation: Invitation) -> Invitation | None:
    """The invitation's row, locked, unless it was accepted or revoked (expired ones too)."""
    row = (
        Invitation.objects.for_storefront(storefront)
        .select_for_update()
        .filter(pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True)
        .first()
    )
    if row is not None:
        row.storefront = storefront  # the same row; saves a query for whoever reads it
    return row


@transaction.atomic
def resend_invitation(
    *, storefront: Storefront, invitation: Invitation, actor=None
) -> IssuedInvitation:
    """A new token and three more days for an invitation not accepted or revoked (expired
    ones included); the link sent before stops working. Raises InvitationNotOpen otherwise."""
    row = _locked_open_invitation(storefront, invitation)
    if row is None:
        raise InvitationNotOpen
    token = _issue(row, timezone.now())
    row.save(update_fields=["token_hash", "sent_at", "expires_at"])
    record(
        storefront=storefront, actor=actor, action=AuditAction.INVITATION_RESENT, email=row.email
    )
    return IssuedInvitation(row, token)


@transaction.atomic
def revoke_invitation(*, storefront: Storefront, invitation: Invitation, actor=None) -> bool:
    """Withdraw an invitation not yet accepted: its link stops working. False when it was
    already revoked or accepted (nothing changes then, and no second audit row)."""
    row = _locked_open_invitation(storefront, invitation)
    if row is None:
        return False
    row.revoked_at = timezone.now()
    row.save(update_fields=["revoked_at"])
    record(
        storefront=storefront, actor=actor, action=AuditAction.INVITATION_REVOKED, email=row.email
    )
    return True


def _lock_for_acceptance(token: str) -> Invitation:
    invitation = selectors.open_invitation(token=token)
    if invitation is None:
        raise InvitationNotOpen
    row = _locked_open_invitation(invitation.storefront, invitation)
    # Locked, then checked again: a revoke, resend or second acceptance may have come between.
    if row is None or row.token_hash != invitation.token_hash or not row.is_open(timezone.now()):
        raise InvitationNotOpen
    return row


def _join(invitation: Invitation, user) -> Membership:
    storefront = invitation.storefront
    membership, _created = Membership.objects.for_storefront(storefront).get_or_create(
        storefront=storefront, user=user, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    record(
        storefront=storefront,
        actor=user,
        action=AuditAction.MEMBER_JOINED,
        member=member_label(membership),
        role=membership.role,
    )
    return membership


@transaction.atomic
def accept_invitation(*, token: str, user) -> Membership:
    """The signed-in owner of the invited address accepts: they become a member. Raises
    InvitationNotOpen for a token that is not open, WrongAccount for anyone else's account."""
    invitation = _lock_for_acceptance(token)
    if user.get_username().lower() != invitation.email:
        raise WrongAccount
    return _join(invitation, user)


@transaction.atomic
def accept_invitation_with_password(*, token: str, password: str) -> Membership:
    """The reader of the email accepts by choosing the password of the invited address's
    account, which is made now (or, made earlier without a password, gets one now). Reading the
    email proves the address is theirs; an account that has a password is never given another
    one this way (PasswordNeeded: its owner signs in and accepts)."""
    invitation = _lock_for_acceptance(token)
    # Two storefronts' invitations to one new address accepted at once: one makes the account,
    # the other then finds it.
    lock_keys([f"account:{invitation.email}"])
    User = get_user_model()
    user = User.objects.select_for_update().filter(username__iexact=invitation.email).first()
    if user is None:
        user = User(username=invitation.email, email=invitation.email)
    elif user.has_usable_password():
        raise PasswordNeeded
    validate_password(password, user)
    user.set_password(password)
    user.save()
    return _join(invitation, user)


@transaction.atomic
def change_member_role(
    *, storefront: Storefront, membership: Membership, role: str, actor=None
) -> bool:
    """Give a member another role; False when it is the role they have. Refuses (ValidationError)
    to demote the storefront's last owner."""
    if role not in Membership.Role.values:
        raise ValidationError(f"unknown role {role!r}")
    row, last_owner = _locked_member(storefront, membership)
    if row.role == role:
        return False
    if last_owner:
        raise ValidationError("the last owner cannot be given another role")
    old_role = row.role
    row.role = role
    row.save(update_fields=["role"])
    membership.role = role
    record(
        storefront=storefront,
        actor=actor,
        action=AuditAction.MEMBER_ROLE_CHANGED,
        member=member_label(row),
        **{"from": old_role, "to": role},
    )
    return True


@transaction.atomic
def remove_member(*, storefront: Storefront, membership: Membership, actor=None) -> None:
    """Take a member out of the storefront (their user stays: they may belong to others).
    Refuses (ValidationError) to remove the storefront's last owner."""
    row, last_owner = _locked_member(storefront, membership)
    if last_owner:
        raise ValidationError("the last owner cannot be removed")
    label, role = member_label(row), row.role
    row.delete()
    record(
        storefront=storefront,
        actor=actor,
        action=AuditAction.MEMBER_REMOVED,
        member=label,
        role=role,
    )
