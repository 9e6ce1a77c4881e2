"""The verbs that change a storefront's settings. Each is atomic and leaves an audit row."""

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from storefront_settings.models import (
    ApiKey,
    AuditLog,
    Membership,
    Provider,
    ProviderSecret,
    Storefront,
    hash_api_key,
)

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
    # Mollie signs nothing: the worker fetches each payment with the API key (live_ / test_).
    Provider.MOLLIE: (
        re.compile(r"(?:live|test)_[A-Za-z0-9]{20,}"),
        "expected a Mollie API key starting with 'live_' or 'test_'",
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
    record(storefront=storefront, actor=actor, action="secret.added", provider=provider)
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
    )
