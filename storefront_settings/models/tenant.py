"""The tenant and the people in it: the storefront (one online shop, with its brand, trust
details and sending guards), its members and their roles, and the invitations that make new
members."""

import datetime
import hashlib
import secrets
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from stdnum.fr import siren, siret

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
