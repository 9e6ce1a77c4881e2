import hashlib
import secrets
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from storefront_settings.fields import EncryptedTextField
from storefront_settings.tenancy import TenantModel


def new_public_id() -> str:
    # Appears in webhook URLs: unguessable, so a storefront cannot be found by counting.
    return "sf_" + secrets.token_hex(12)


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


class Language(models.TextChoices):
    FRENCH = "fr", "Français"
    ENGLISH = "en", "English"


class Storefront(models.Model):
    """The tenant: one online shop. Everything else a merchant owns hangs from it."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    public_id = models.CharField(max_length=40, unique=True, default=new_public_id, editable=False)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.FRENCH)
    time_zone = models.CharField(
        max_length=64, default="Europe/Paris", validators=[validate_time_zone]
    )
    currency = models.CharField(
        max_length=3,
        default="EUR",
        validators=[RegexValidator(r"^[A-Z]{3}$", _("Use an ISO 4217 code such as EUR."))],
    )
    shop_url = models.URLField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Membership(TenantModel):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        STAFF = "staff", _("Staff")
        VIEWER = "viewer", _("Viewer")

    storefront = models.ForeignKey(Storefront, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["storefront", "user"], name="uniq_membership"),
        ]

    def __str__(self):
        return f"{self.user} ({self.role}) at {self.storefront}"


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


class Provider(models.TextChoices):
    """Who posts webhooks to a storefront; each has its own signing secret."""

    STRIPE = "stripe", "Stripe"
    ADYEN = "adyen", "Adyen"
    MOLLIE = "mollie", "Mollie"
    EASYPOST = "easypost", "EasyPost"
    AFTERSHIP = "aftership", "AfterShip"
    GENERIC = "generic", _("Generic (Standard Webhooks)")


class ProviderSecret(TenantModel):
    """A provider's webhook signing secret, encrypted at rest. Several may be active at once,
    so a secret can be rotated without rejecting events signed with the old one."""

    storefront = models.ForeignKey(
        Storefront, on_delete=models.CASCADE, related_name="provider_secrets"
    )
    provider = models.CharField(max_length=20, choices=Provider.choices)
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


class AuditLog(TenantModel):
    """Who changed what, and when: one row per significant change."""

    storefront = models.ForeignKey(Storefront, on_delete=models.CASCADE, related_name="audit_logs")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=60)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.action} by {self.actor or 'system'}"
