"""The storefront's credentials and connections: its API keys (only their hash is stored), its
providers' webhook signing secrets (encrypted at rest) and, when it is a platform, the accounts
connected to it, by which events reaching its endpoint are routed."""

import hashlib

from django.conf import settings
from django.db import models

from storefront_settings import connections
from storefront_settings.fields import EncryptedTextField
from storefront_settings.models.tenant import Storefront
from storefront_settings.tenancy import TenantModel


def hash_api_key(raw_key: str) -> str:
    # Keys are 256-bit random strings, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(raw_key.encode()).hexdigest()


class ApiKey(TenantModel):
    """An API key for one storefront. Only its hash is stored; the key is shown once."""

    PREFIX = "as_"
    VISIBLE_LENGTH = len(PREFIX) + 8

    storefront = models.ForeignKey(Storefront, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(
        max_length=20, help_text="The key's first characters, to tell keys apart."
    )
    key_hash = models.CharField(max_length=64, db_index=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["storefront", "key_hash"], name="uniq_api_key_hash"),
        ]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ConnectedAccount(TenantModel):
    """A platform's routing of a connected account: a storefront (the platform: a marketplace,
    an agency) holds the provider account, and its endpoint receives the events of accounts
    connected to it (Stripe Connect; Mollie and PayPal have the like). An event that names
    `account_id` and arrives at this storefront's endpoint belongs to `connected_storefront`.
    Routing only ever looks among the rows of the storefront whose endpoint was called, so an
    account id alone can never reach another tenant."""

    storefront = models.ForeignKey(
        Storefront, on_delete=models.CASCADE, related_name="connected_accounts"
    )
    provider = models.CharField(max_length=20, choices=connections.choices)
    account_id = models.CharField(max_length=255, help_text="The provider's id for the account.")
    connected_storefront = models.ForeignKey(
        Storefront, on_delete=models.CASCADE, related_name="platform_accounts"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["storefront", "provider", "account_id"], name="uniq_connected_account"
            )
        ]

    def __str__(self):
        return f"{self.get_provider_display()} {self.account_id}"


class ProviderSecret(TenantModel):
    """A provider's webhook signing secret, encrypted at rest. Several may be active at once,
    so a secret can be rotated without rejecting events signed with the old one."""

    storefront = models.ForeignKey(
        Storefront, on_delete=models.CASCADE, related_name="provider_secrets"
    )
    # Who posts the webhooks this secret signs: a connection's key (settings.CONNECTIONS).
    provider = models.CharField(max_length=20, choices=connections.choices)
    secret = EncryptedTextField()
    hint = models.CharField(max_length=8, editable=False, help_text="The secret's last characters.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["storefront", "provider"], name="provider_secret_lookup")]

    def __str__(self):
        return f"{self.get_provider_display()} secret …{self.hint}"
