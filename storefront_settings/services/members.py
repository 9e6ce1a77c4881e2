"""The verbs that change a storefront's settings. Each is atomic and leaves an audit row."""

import re
import secrets
from dataclasses import dataclass
from datetime import date, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from storefront_settings import selectors
from storefront_settings.models import (
    ApiKey,
    AuditLog,
    Invitation,
    Membership,
    Provider,
    ProviderSecret,
    RecoveryPolicy,
    ShipmentPolicy,
    Storefront,
    hash_api_key,
)
from storefront_settings.tenancy import lock_keys

# What each provider's signing secret looks like, from the provider's documentation, and how to
# say so. A value that does not match is refused at entry rather than failing every webhook later.
SECRET_FORMATS = {
    # Stripe: "whsec_" then the key (dashboard > Developers > Webhooks > Signing secret).
    Provider.STRIPE: (
        re.compile(r"whsec_[A-Za-z0-9+/=]{16,}"),
        "expected 'whsec_' followed by the signing key",
    ),
    # Adyen: the HMAC key is hex-encoded, 32 bytes or more.
    Provider.ADYEN: (
        re.compile(r"(?:[0-9A-Fa-f]{2}){32,}"),
        "expected the hex-encoded HMAC key (64 hex digits or more)",
    ),
    # EasyPost and AfterShip: a printable string of the merchant's choosing.
    Provider.EASYPOST: (
        re.compile(r"[!-~]{8,}"),
        "expected at least 8 printable characters, no spaces",
    ),
    Provider.AFTERSHIP: (
        re.compile(r"[!-~]{8,}"),
        "expected at least 8 printable characters, no spaces",
    ),
    # Standard Webhooks: "whsec_" then base64 of the key.
    Provider.GENERIC: (
        re.compile(r"whsec_[A-Za-z0-9+/=]{16,}"),
        "expected 'whsec_' followed by the base64 signing key",
    ),
}

LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class NewStorefront:
    storefront: Storefront
    owner: object
    api_key: ApiKey
    raw_api_key: str
    generated_password: str | None


def record(*, storefront: Storefront, actor, action: str, **detail) -> AuditLog:
    """One audit row. The actor is a user, None (Aftersale itself), or an API key: a key is not
    a user, so the row names it in `detail["api_key"]` by its name and visible prefix (never the
    key), as the key was at that moment."""
    if isinstance(actor, ApiKey):
        detail = {**detail, "api_key": {"name": actor.name, "prefix": actor.prefix}}
        actor = None
    return AuditLog.objects.create(storefront=storefront, actor=actor, action=action, detail=detail)


def validate_provider_secret(provider: str, secret: str) -> None:
    if provider not in Provider.values:
        raise ValidationError(
            f"unknown provider {provider!r} (known: {', '.join(Provider.values)})"
        )
    pattern, expected = SECRET_FORMATS[provider]
    if not pattern.fullmatch(secret):
        # The message names the expected shape, never the value given.
        raise ValidationError(f"the {provider} secret is malformed: {expected}")


@transaction.atomic
def create_storefront(
    *,
    name: str,
    owner_email: str,
    password: str | None = None,
    provider_secrets: list[tuple[str, str]] = (),
    slug: str | None = None,
    language: str | None = None,
) -> NewStorefront:
    """Create a storefront with its owner and a first API key; all or nothing."""
    name = name.strip()
    if not name:
        raise ValidationError("the storefront name is empty")
    slug = slugify(slug or name)[:60].strip("-")
    if not slug:
        raise ValidationError("the storefront name needs at least one letter or digit for its slug")
    validate_email(owner_email)
    for provider, secret in provider_secrets:
        validate_provider_secret(provider, secret)

    storefront = Storefront(name=name, slug=slug)
    if language:
        storefront.language = language
    storefront.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            storefront.save()
    except IntegrityError:
        raise ValidationError(f"a storefront with the slug {slug!r} already exists") from None

    owner, generated_password = _owner_user(owner_email, password)
    Membership.objects.create(storefront=storefront, user=owner, role=Membership.Role.OWNER)
    for provider, secret in provider_secrets:
        add_provider_secret(storefront=storefront, provider=provider, secret=secret, actor=owner)
    api_key, raw_key = create_api_key(storefront=storefront, name="Default", actor=owner)
    record(storefront=storefront, actor=owner, action="storefront.created", slug=slug)
    return NewStorefront(storefront, owner, api_key, raw_key, generated_password)


def _owner_user(email: str, password: str | None):
    User = get_user_model()
    email = User.objects.normalize_email(email)
    user = User.objects.filter(username__iexact=email).first()
    if user is not None:
        if password:
            raise ValidationError(
                f"a user with the email {email} already exists; leave out the password to make "
                "them the owner"
            )
        return user, None
    user = User(username=email, email=email)
    generated = None
    if password:
        validate_password(password, user)
    else:
        password = generated = secrets.token_urlsafe(12)
    user.set_password(password)
    user.save()
    return user, generated


def create_api_key(*, storefront: Storefront, name: str, actor=None) -> tuple[ApiKey, str]:
    """Create an API key and return it with the raw key, which is not stored and shown once."""
    raw_key = ApiKey.PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        storefront=storefront,
        name=name,
        prefix=raw_key[: ApiKey.VISIBLE_LENGTH],
        key_hash=hash_api_key(raw_key),
        created_by=actor,
    )
    record(storefront=storefront, actor=actor, action="api_key.created", prefix=api_key.prefix)
    return api_key, raw_key


def _revoke(*, storefront: Storefront, item, actor, action: str, **detail) -> bool:
    """Revoke a key or secret of this storefront (another's is left alone); True if it was
    active. The UPDATE's condition makes a second revocation a no-op with no second audit row."""
    revoked = (
        type(item)
        .objects.for_storefront(storefront)
        .filter(pk=item.pk, revoked_at__isnull=True)
        .update(revoked_at=timezone.now())
    )
    if revoked:
        record(storefront=storefront, actor=actor, action=action, **detail)
    return bool(revoked)


@transaction.atomic
def revoke_api_key(*, storefront: Storefront, api_key: ApiKey, actor=None) -> bool:
    return _revoke(
        storefront=storefront,
        item=api_key,
        actor=actor,
        action="api_key.revoked",
        prefix=api_key.prefix,
    )


def authenticate_api_key(raw_key: str) -> ApiKey | None:
    """The active key matching raw_key, or None. The key names its storefront."""
    if not raw_key.startswith(ApiKey.PREFIX):
        return None
    # Crossing tenants is the point here: the key is what tells us the tenant.
    api_key = (
        ApiKey.unscoped.select_related("storefront")
        .filter(key_hash=hash_api_key(raw_key), revoked_at__isnull=True)
        .first()
    )
    if api_key is None:
        return None
    now = timezone.now()
    # Write last-used at most once a minute, not on every request.
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.for_storefront(api_key.storefront).filter(pk=api_key.pk).update(
            last_used_at=now
        )
        api_key.last_used_at = now
    return api_key


@transaction.atomic
def add_provider_secret(
    *, storefront: Storefront, provider: str, secret: str, actor=None
) -> ProviderSecret:
    """Add an active signing secret; the ones already active stay active until revoked."""
    validate_provider_secret(provider, secret)
    provider_secret = ProviderSecret.objects.create(
        storefront=storefront, provider=provider, secret=secret, hint=secret[-4:], created_by=actor
    )
    record(
        storefront=storefront,
        actor=actor,
        action="secret.added",
        provider=provider,
        hint=provider_secret.hint,
    )
    return provider_secret


@transaction.atomic
def revoke_provider_secret(
    *, storefront: Storefront, provider_secret: ProviderSecret, actor=None
) -> bool:
    return _revoke(
        storefront=storefront,
        item=provider_secret,
        actor=actor,
        action="secret.revoked",
        provider=provider_secret.provider,
        hint=provider_secret.hint,
    )


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


def _member_label(membership: Membership) -> str:
    return membership.user.email or membership.user.get_username()


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
    record(storefront=storefront, actor=actor, action="member.invited", email=email, role=role)
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
    record(storefront=storefront, actor=actor, action="invitation.resent", email=row.email)
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
    record(storefront=storefront, actor=actor, action="invitation.revoked", email=row.email)
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
        action="member.joined",
        member=_member_label(membership),
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
        action="member.role_changed",
        member=_member_label(row),
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
    label, role = _member_label(row), row.role
    row.delete()
    record(storefront=storefront, actor=actor, action="member.removed", member=label, role=role)


# Settings a merchant changes in the dashboard. Each verb takes the new values of some fields,
# saves only those that differ, and leaves one audit row naming them with their old and new
# values (none of these fields is a secret). Nothing changed: nothing saved, no row.

BRAND_AND_TRUST_FIELDS = ("name", "shop_url", *Storefront.BRAND_FIELDS, *Storefront.TRUST_FIELDS)
SENDING_FIELDS = ("quiet_hours_start", "quiet_hours_end", "buyer_messages_per_day")
RECOVERY_POLICY_FIELDS = (
    "disabled_reasons",
    "minimum_amount",
    "email_delays",
    "discount_code",
    "discount_wording",
    "checkout_url_template",
    "other_payment_methods",
    "recovery_window_days",
)
SHIPMENT_POLICY_FIELDS = ("milestones", "stalled_days")
SECURITY_FIELDS = ("require_two_factor",)
ALERT_FIELDS = ("receives_alerts", "alert_frequency")


AUDIT_TEXT_LIMIT = 500


def audit_value(value):
    """A value as the audit log keeps it (JSON): times as HH:MM, dates and moments in ISO 8601,
    long text cut short, anything else JSON cannot hold as its text."""
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [audit_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): audit_value(item) for key, item in value.items()}
    if value is None or isinstance(value, bool | int | float):
        return value
    text = str(value)
    return text if len(text) <= AUDIT_TEXT_LIMIT else text[: AUDIT_TEXT_LIMIT - 1] + "…"


def changes(row, new_values: dict) -> dict:
    """{field: {"from": old, "to": new}} for the values that differ from the row's."""
    return {
        field: {"from": audit_value(getattr(row, field)), "to": audit_value(new)}
        for field, new in new_values.items()
        if getattr(row, field) != new
    }


def _save_changes(*, storefront, actor, row, values: dict, fields: tuple, action: str, **detail):
    """Set `values` on the locked `row`, validate and save the fields that changed, and record
    them; returns {field: {"from": old, "to": new}} for the changed fields."""
    unknown = set(values) - set(fields)
    if unknown:
        raise TypeError(f"not settable here: {', '.join(sorted(unknown))}")
    changed = changes(row, values)
    for field in changed:
        setattr(row, field, values[field])
    if not changed:
        return changed
    # The model's own validators have the last word, whatever the caller checked; fields not
    # changed here are left out, so an old value set elsewhere does not block this change.
    row.full_clean(
        exclude=[f.name for f in row._meta.concrete_fields if f.name not in changed],
        validate_unique=False,
        validate_constraints=False,
    )
    row.save(update_fields=list(changed))
    record(storefront=storefront, actor=actor, action=action, changed=changed, **detail)
    return changed


def _update_storefront(*, storefront: Storefront, actor, values: dict, fields, action) -> dict:
    # Saved on a locked copy of the row, then copied onto the caller's storefront, so the page
    # that made the change shows it (its header, the shop's name) without a second read.
    row = Storefront.objects.select_for_update().get(pk=storefront.pk)
    changed = _save_changes(
        storefront=row, actor=actor, row=row, values=values, fields=fields, action=action
    )
    for field in changed:
        setattr(storefront, field, getattr(row, field))
    return changed


@transaction.atomic
def update_brand_and_trust(*, storefront: Storefront, actor, values: dict) -> dict:
    """Change the shop's name, brand and the trust details its buyers see in every email."""
    return _update_storefront(
        storefront=storefront,
        actor=actor,
        values=values,
        fields=BRAND_AND_TRUST_FIELDS,
        action="storefront.brand_changed",
    )


@transaction.atomic
def update_sending_guards(*, storefront: Storefront, actor, values: dict) -> dict:
    """Change the quiet hours and the daily cap of buyer emails."""
    return _update_storefront(
        storefront=storefront,
        actor=actor,
        values=values,
        fields=SENDING_FIELDS,
        action="storefront.sending_changed",
    )


@transaction.atomic
def update_security(*, storefront: Storefront, actor, values: dict) -> dict:
    """Require, or stop requiring, a second factor from every member of the storefront."""
    return _update_storefront(
        storefront=storefront,
        actor=actor,
        values=values,
        fields=SECURITY_FIELDS,
        action="storefront.security_changed",
    )


def _locked_settings_row(model, storefront: Storefront):
    model.for_storefront(storefront)  # made with the defaults on first use
    return model.objects.for_storefront(storefront).select_for_update().get()


@transaction.atomic
def update_recovery_policy(*, storefront: Storefront, actor, values: dict) -> dict:
    """Change what Aftersale does when a payment fails; sales already scheduled keep their
    emails, the new policy applies to the next failures."""
    return _save_changes(
        storefront=storefront,
        actor=actor,
        row=_locked_settings_row(RecoveryPolicy, storefront),
        values=values,
        fields=RECOVERY_POLICY_FIELDS,
        action="recovery_policy.changed",
    )


@transaction.atomic
def update_shipment_policy(*, storefront: Storefront, actor, values: dict) -> dict:
    """Change which shipment emails buyers get and when a parcel counts as stalled."""
    return _save_changes(
        storefront=storefront,
        actor=actor,
        row=_locked_settings_row(ShipmentPolicy, storefront),
        values=values,
        fields=SHIPMENT_POLICY_FIELDS,
        action="shipment_policy.changed",
    )


@transaction.atomic
def update_alert_preferences(*, membership: Membership, actor, values: dict) -> dict:
    """Change whether, and how often, one member hears about failed payments and parcels."""
    storefront = membership.storefront
    row = Membership.objects.for_storefront(storefront).select_for_update().get(pk=membership.pk)
    changed = _save_changes(
        storefront=storefront,
        actor=actor,
        row=row,
        values=values,
        fields=ALERT_FIELDS,
        action="member.alerts_changed",
        member=_member_label(row),
    )
    for field in changed:
        setattr(membership, field, getattr(row, field))
    return changed
