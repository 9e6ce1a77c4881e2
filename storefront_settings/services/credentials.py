"""A storefront's credentials: the API keys it calls us with, and the providers' signing secrets
its webhooks are checked with."""

import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from storefront_settings import connections, edge_cache
from storefront_settings.models import ApiKey, AuditAction, ProviderSecret, Storefront
from storefront_settings.models.credentials import hash_api_key
from storefront_settings.services.audit import record

LAST_USED_RESOLUTION = timedelta(minutes=1)


def validate_provider_secret(provider: str, secret: str) -> None:
    """Refuse a secret for a connection that does not exist, or one that is not shaped as the
    connection's secrets are (its package's SecretFormat)."""
    connection = connections.find(provider)
    if connection is None:
        raise ValidationError(
            f"unknown provider {provider!r} (known: {', '.join(connections.known_keys())})"
        )
    expected = connection.secret_format.expected
    if not connection.secret_format.accepts(secret):
        # The message names the expected shape, never the value given.
        raise ValidationError(f"the {provider} secret is malformed: {expected}")


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
    record(
        storefront=storefront,
        actor=actor,
        action=AuditAction.API_KEY_CREATED,
        prefix=api_key.prefix,
    )
    return api_key, raw_key


def _revoke(*, storefront: Storefront, item, actor, action: AuditAction, **detail) -> bool:
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
        action=AuditAction.API_KEY_REVOKED,
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
        action=AuditAction.SECRET_ADDED,
        provider=provider,
        hint=provider_secret.hint,
    )
    return provider_secret


@transaction.atomic
def revoke_provider_secret(
    *, storefront: Storefront, provider_secret: ProviderSecret, actor=None
) -> bool:
    revoked = _revoke(
        storefront=storefront,
        item=provider_secret,
        actor=actor,
        action=AuditAction.SECRET_REVOKED,
        provider=provider_secret.provider,
        hint=provider_secret.hint,
    )
    if revoked:
        # An UPDATE sends no post_save: the edge's cache is told here.
        edge_cache.invalidate()
    return revoked
