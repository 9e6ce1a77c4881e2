import datetime
import hashlib
import secrets
import zoneinfo

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from stdnum.fr import siren, siret

from storefront_settings import connections
from storefront_settings.fields import EncryptedTextField
from storefront_settings.tenancy import TenantModel


def new_public_id() -> str:
    # Appears in webhook URLs: unguessable, so a storefront cannot be found by counting.
    return "sf_" + secrets.token_hex(12)


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


def validate_company_number(value: str) -> None:
    """A French SIREN (9 digits) or SIRET (14 digits), with its check digit."""
    digits = value.replace(" ", "")
    if not (siren.is_valid(digits) or siret.is_valid(digits)):
        raise ValidationError(
            _("Enter a SIREN (9 digits) or a SIRET (14 digits) as registered; check the digits.")
        )


validate_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a colour like #1D2330."))


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

    # Brand, shown in every email and on the buyer's pages.
    logo_url = models.URLField(blank=True)
    brand_colour = models.CharField(max_length=7, default="#1D2330", validators=[validate_colour])
    accent_colour = models.CharField(max_length=7, default="#2356D8", validators=[validate_colour])

    # Trust details a shop must show its buyers (French consumer law asks for most of them).
    legal_name = models.CharField(max_length=200, blank=True)
    company_number = models.CharField(
        max_length=20, blank=True, validators=[validate_company_number], help_text="SIREN or SIRET"
    )
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=100, blank=True)
    support_email = models.EmailField(blank=True)
    support_phone = models.CharField(max_length=40, blank=True)
    support_hours = models.CharField(
        max_length=200, blank=True, help_text=_("For example: Monday to Friday, 9:00 to 18:00")
    )
    terms_url = models.URLField(blank=True)
    returns_url = models.URLField(blank=True)
    withdrawal_url = models.URLField(blank=True)
    privacy_url = models.URLField(blank=True)

    # Guards on buyer messages: never more than this many a day to one buyer, and none during
    # quiet hours in the storefront's time zone (due messages wait for the morning).
    buyer_messages_per_day = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    quiet_hours_start = models.TimeField(default=datetime.time(21, 0))
    quiet_hours_end = models.TimeField(default=datetime.time(8, 0))

    # Every member must log in with a second factor to see this storefront's pages (the API,
    # with its keys, is not concerned). Owners change it (dashboard, Settings → Security).
    require_two_factor = models.BooleanField(
        default=False,
        help_text=_("Members must log in with a code from an authenticator app."),
    )

    BRAND_FIELDS = ["logo_url", "brand_colour", "accent_colour"]
    TRUST_FIELDS = [
        "legal_name",
        "company_number",
        "address_line1",
        "address_line2",
        "postal_code",
        "city",
        "country",
        "support_email",
        "support_phone",
        "support_hours",
        "terms_url",
        "returns_url",
        "withdrawal_url",
        "privacy_url",
    ]

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def quiet_hours_end_after(self, moment: datetime.datetime) -> datetime.datetime | None:
        """When the quiet hours around `moment` end, or None if `moment` is not in them."""
        start, end = self.quiet_hours_start, self.quiet_hours_end
        if start == end:
            return None
        local = moment.astimezone(self.zone)
        now = local.time()
        in_quiet = (start <= now < end) if start < end else (now >= start or now < end)
        if not in_quiet:
            return None
        day = local.date() if now < end else local.date() + datetime.timedelta(days=1)
        # Built as a local wall-clock time, so a daylight-saving change is handled by zoneinfo.
        return datetime.datetime.combine(day, end, tzinfo=self.zone)


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

    class AlertFrequency(models.TextChoices):
        IMMEDIATE = "immediate", _("As it happens")
        DAILY = "daily", _("A daily digest")

    receives_alerts = models.BooleanField(
        default=True, help_text=_("Emails about failed payments and parcels in trouble.")
    )
    alert_frequency = models.CharField(
        max_length=10, choices=AlertFrequency.choices, default=AlertFrequency.IMMEDIATE
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["storefront", "user"], name="uniq_membership"),
        ]

    def __str__(self):
        return f"{self.user} ({self.role}) at {self.storefront}"


class Invitation(TenantModel):
    """An address invited to become a member. It grants nothing until the person who reads the
    email accepts it (the Membership is made then); it expires, can be revoked, and a resend
    replaces its token. Only the token's hash is kept: the token itself is in the email only."""

    LIFETIME = datetime.timedelta(days=3)

    storefront = models.ForeignKey(Storefront, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(help_text="Stored lower-case.")
    role = models.CharField(max_length=10, choices=Membership.Role.choices)
    token_hash = models.CharField(max_length=64, db_index=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(help_text="When the current token was made and emailed.")
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["storefront", "token_hash"], name="uniq_invitation_token"
            ),
            # One open invitation per address: inviting it again renews that one.
            models.UniqueConstraint(
                fields=["storefront", "email"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="uniq_open_invitation",
            ),
        ]

    def __str__(self):
        return f"{self.email} ({self.role}) to {self.storefront}"

    @staticmethod
    def hash_token(raw_token: str) -> str:
        # Tokens are 256-bit random strings: a fast hash is enough, nothing to brute-force.
        return hashlib.sha256(raw_token.encode()).hexdigest()

    def is_open(self, now: datetime.datetime) -> bool:
        """Neither accepted nor revoked, and not yet expired: the emailed link works."""
        return self.accepted_at is None and self.revoked_at is None and now < self.expires_at


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


class PaymentMethod(models.TextChoices):
    """Other ways to pay a shop may accept, suggested when a card will not do."""

    PAYPAL = "paypal", "PayPal"
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    APPLE_PAY = "apple_pay", "Apple Pay"
    GOOGLE_PAY = "google_pay", "Google Pay"
    KLARNA = "klarna", "Klarna"
    ALMA = "alma", _("Alma (pay in instalments)")


class StorefrontSettings(TenantModel):
    """One row of settings per storefront, made with the defaults on first use."""

    class Meta:
        abstract = True

    @classmethod
    def for_storefront(cls, storefront: Storefront):
        settings_row, _created = cls.objects.for_storefront(storefront).get_or_create(
            storefront=storefront
        )
        return settings_row


def default_email_delays() -> list[int]:
    return [1, 24, 72]


def validate_email_delays(value: list[int]) -> None:
    if not 1 <= len(value) <= 3:
        raise ValidationError(_("Give one to three delays, in hours."))
    if any(delay < 0 for delay in value) or value != sorted(value):
        raise ValidationError(_("Delays are hours after the failure, in increasing order."))


def validate_checkout_url_template(value: str) -> None:
    if value and "{order_reference}" not in value:
        raise ValidationError(_("The template must contain {order_reference}."))


class RecoveryPolicy(StorefrontSettings):
    """What Aftersale does for this storefront when a payment fails. One row per storefront,
    made with the defaults on first use (RecoveryPolicy.for_storefront)."""

    storefront = models.OneToOneField(
        Storefront, on_delete=models.CASCADE, related_name="recovery_policy"
    )
    disabled_reasons = ArrayField(
        models.CharField(max_length=40),
        default=list,
        blank=True,
        help_text=_("Failure reasons for which no recovery email is sent."),
    )
    minimum_amount = models.PositiveIntegerField(
        default=0, help_text=_("In minor units (cents): below it, no recovery email.")
    )
    email_delays = ArrayField(
        models.PositiveIntegerField(),
        default=default_email_delays,
        validators=[validate_email_delays],
        help_text=_("Hours after the failure for each recovery email (up to three)."),
    )
    discount_code = models.CharField(max_length=50, blank=True)
    discount_wording = models.CharField(
        max_length=200,
        blank=True,
        # xgettext:no-python-format
        help_text=_("For example: a 10% code to make up for it"),
    )
    checkout_url_template = models.URLField(
        max_length=500,
        blank=True,
        validators=[validate_checkout_url_template],
        help_text=_("Where to pay again, e.g. https://shop.example/checkout/{order_reference}"),
    )
    other_payment_methods = ArrayField(
        models.CharField(max_length=20, choices=PaymentMethod.choices), default=list, blank=True
    )
    recovery_window_days = models.PositiveSmallIntegerField(
        default=7, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )

    class Meta:
        verbose_name_plural = "recovery policies"

    def __str__(self):
        return f"Recovery policy of {self.storefront}"


class Milestone(models.TextChoices):
    """A moment of a parcel's journey the buyer can be emailed about (ShipmentPolicy.milestones,
    tracking's shipment_<milestone> emails), labelled for the shipment emails settings."""

    SHIPPED = "shipped", _("Shipped: the parcel has left, with its tracking number and link")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery: the parcel arrives today")
    DELIVERED = "delivered", _("Delivered")
    FAILED_ATTEMPT = "failed_attempt", _("A delivery attempt failed: what happens next")
    AVAILABLE_FOR_PICKUP = (
        "available_for_pickup",
        _("Ready to collect at a pickup point or post office"),
    )
    EXCEPTION = "exception", _("A problem in delivery (damaged, address issue, held at customs…)")
    DELAY = "delay", _("Running late: past the delivery date you promised")
    STALLED = "stalled", _("No news from the carrier for the number of days below")


def default_milestones() -> list[str]:
    # Every milestone, in the enum's order (the order the settings page lists them in).
    return list(Milestone.values)


class ShipmentPolicy(StorefrontSettings):
    """Which shipment emails the buyer gets, and when a parcel counts as stalled. One row per
    storefront, made with the defaults on first use."""

    storefront = models.OneToOneField(
        Storefront, on_delete=models.CASCADE, related_name="shipment_policy"
    )
    milestones = ArrayField(
        models.CharField(max_length=30),
        default=default_milestones,
        blank=True,
        help_text=_(
            "Emails to send: shipped, out_for_delivery, delivered, failed_attempt, "
            "available_for_pickup, exception, delay, stalled."
        ),
    )
    stalled_days = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(30)]
    )

    class Meta:
        verbose_name_plural = "shipment policies"

    def __str__(self):
        return f"Shipment policy of {self.storefront}"


class AuditAction(models.TextChoices):
    """What an audit row records (AuditLog.action), written by services across the apps and
    labelled here once for the audit page. A new action gets its member and label here."""

    STOREFRONT_CREATED = "storefront.created", _("Storefront created")
    STOREFRONT_BRAND_CHANGED = "storefront.brand_changed", _("Brand and trust details changed")
    STOREFRONT_SENDING_CHANGED = "storefront.sending_changed", _("Quiet hours or daily cap changed")
    RECOVERY_POLICY_CHANGED = "recovery_policy.changed", _("Recovery emails policy changed")
    SHIPMENT_POLICY_CHANGED = "shipment_policy.changed", _("Shipment emails policy changed")
    MEMBER_ALERTS_CHANGED = "member.alerts_changed", _("Alert preferences changed")
    API_KEY_CREATED = "api_key.created", _("API key created")
    API_KEY_REVOKED = "api_key.revoked", _("API key revoked")
    SECRET_ADDED = "secret.added", _("Provider secret added")
    SECRET_REVOKED = "secret.revoked", _("Provider secret revoked")
    MEMBER_ROLE_CHANGED = "member.role_changed", _("Member's role changed")
    MEMBER_INVITED = "member.invited", _("Member invited")
    INVITATION_RESENT = "invitation.resent", _("Invitation sent again")
    INVITATION_REVOKED = "invitation.revoked", _("Invitation revoked")
    MEMBER_JOINED = "member.joined", _("Invitation accepted: member joined")
    MEMBER_REMOVED = "member.removed", _("Member removed")
    LOST_SALE_MARKED_LOST = "lost_sale.marked_lost", _("Lost sale marked lost")
    LOST_SALE_RECOVERY_EMAIL_SENT_NOW = (
        "lost_sale.recovery_email_sent_now",
        _("Recovery email sent now"),
    )
    LOST_SALE_SEQUENCE_STOPPED = "lost_sale.sequence_stopped", _("Recovery emails stopped")
    SHIPMENTS_IMPORTED = "shipments.imported", _("Shipments imported from a file")
    SHIPMENT_LINK_REVOKED = (
        "shipment.link_revoked",
        _("Buyer's tracking link revoked (a new one made)"),
    )
    SHIPMENT_CREATED = "shipment.created", _("Shipment recorded")
    SHIPMENT_CORRECTED = "shipment.corrected", _("Shipment corrected")
    MESSAGE_RESENT = "message.resent", _("Failed email queued again")
    MESSAGE_CANCELLED = "message.cancelled", _("Scheduled email cancelled")
    INBOUND_EVENT_REPLAYED = "inbound_event.replayed", _("Event processed again")
    ADMIN_ADDED = "admin.added", _("Added by Aftersale's staff")
    ADMIN_CHANGED = "admin.changed", _("Changed by Aftersale's staff")
    ADMIN_DELETED = "admin.deleted", _("Deleted by Aftersale's staff")
    SUPPRESSION_ADDED = "suppression.added", _("Address added to the suppression list")
    SUPPRESSION_LIFTED = "suppression.lifted", _("Suppression lifted")
    WEBHOOK_TEST_SENT = "webhook.test_sent", _("Test event sent")
    STOREFRONT_SECURITY_CHANGED = "storefront.security_changed", _("Two-factor requirement changed")
    MEMBER_TWO_FACTOR_ENABLED = "member.two_factor_enabled", _("Two-factor login turned on")
    MEMBER_TWO_FACTOR_DISABLED = "member.two_factor_disabled", _("Two-factor login turned off")
    MEMBER_RECOVERY_CODES_RENEWED = "member.recovery_codes_renewed", _("New recovery codes made")


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
