"""A storefront: made with its owner and first API key (create_storefront), and the settings its
team changes in the dashboard (brand, sending guards, security, the recovery and shipment
policies)."""

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from storefront_settings.models import (
    ApiKey,
    AuditAction,
    Membership,
    RecoveryPolicy,
    ShipmentPolicy,
    Storefront,
)
from storefront_settings.services._common import save_changes
from storefront_settings.services.audit import record
from storefront_settings.services.credentials import (
    add_provider_secret,
    create_api_key,
    validate_provider_secret,
)


@dataclass(frozen=True)
class NewStorefront:
    storefront: Storefront
    owner: object
    api_key: ApiKey
    raw_api_key: str
    generated_password: str | None


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
    record(storefront=storefront, actor=owner, action=AuditAction.STOREFRONT_CREATED, slug=slug)
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


# Settings a merchant changes in the dashboard. Each verb takes the new values of some fields,
# saves only those that differ, and leaves one audit row naming them with their old and new
# values (none of these fields is a secret). Nothing changed: nothing saved, no row.


BRAND_AND_TRUST_FIELDS = ("name", "shop_url", *Storefront.BRAND_FIELDS, *Storefront.TRUST_FIELDS)
SENDING_FIELDS = ("quiet_hours_start", "quiet_hours_end", "buyer_messages_per_day")
RECOVERY_POLICY_FIELDS = (
    "disabled_reasons",
    "minimum_amount",
    "email_delay_minutes",
    "discount_code",
    "discount_wording",
    "checkout_url_template",
    "other_payment_methods",
    "recovery_window_days",
)
SHIPMENT_POLICY_FIELDS = ("milestones", "stalled_days")
SECURITY_FIELDS = ("require_two_factor",)


def _update_storefront(
    *, storefront: Storefront, actor, values: dict, fields, action: AuditAction
) -> dict:
    # Saved on a locked copy of the row, then copied onto the caller's storefront, so the page
    # that made the change shows it (its header, the shop's name) without a second read.
    row = Storefront.objects.select_for_update().get(pk=storefront.pk)
    changed = save_changes(
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
        action=AuditAction.STOREFRONT_BRAND_CHANGED,
    )


@transaction.atomic
def update_sending_guards(*, storefront: Storefront, actor, values: dict) -> dict:
    """Change the quiet hours and the daily cap of buyer emails."""
    return _update_storefront(
        storefront=storefront,
        actor=actor,
        values=values,
        fields=SENDING_FIELDS,
        action=AuditAction.STOREFRONT_SENDING_CHANGED,
    )


@transaction.atomic
def update_security(*, storefront: Storefront, actor, values: dict) -> dict:
    """Require, or stop requiring, a second factor from every member of the storefront."""
    return _update_storefront(
        storefront=storefront,
        actor=actor,
        values=values,
        fields=SECURITY_FIELDS,
        action=AuditAction.STOREFRONT_SECURITY_CHANGED,
    )


def _locked_settings_row(model, storefront: Storefront):
    model.for_storefront(storefront)  # made with the defaults on first use
    return model.objects.for_storefront(storefront).select_for_update().get()


@transaction.atomic
def update_recovery_policy(*, storefront: Storefront, actor, values: dict) -> dict:
    """Change what Aftersale does when a payment fails; sales already scheduled keep their
    emails, the new policy applies to the next failures."""
    return save_changes(
        storefront=storefront,
        actor=actor,
        row=_locked_settings_row(RecoveryPolicy, storefront),
        values=values,
        fields=RECOVERY_POLICY_FIELDS,
        action=AuditAction.RECOVERY_POLICY_CHANGED,
    )


@transaction.atomic
def update_shipment_policy(*, storefront: Storefront, actor, values: dict) -> dict:
    """Change which shipment emails buyers get and when a parcel counts as stalled."""
    return save_changes(
        storefront=storefront,
        actor=actor,
        row=_locked_settings_row(ShipmentPolicy, storefront),
        values=values,
        fields=SHIPMENT_POLICY_FIELDS,
        action=AuditAction.SHIPMENT_POLICY_CHANGED,
    )
