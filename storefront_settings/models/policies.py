"""The storefront's policies, one row each made with the defaults on first use: what is done
when a payment fails (RecoveryPolicy, and the other ways to pay it may suggest) and which
shipment emails the buyer gets (ShipmentPolicy, and the milestones it chooses from)."""

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from storefront_settings.models.tenant import Storefront
from storefront_settings.tenancy import TenantModel


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
    # A quarter of an hour after the failure (a buyer who just failed 3-D Secure is often
    # still at the screen), the next day, three days later. In minutes.
    return [15, 24 * 60, 72 * 60]


def validate_email_delays(value: list[int]) -> None:
    if not 1 <= len(value) <= 3:
        raise ValidationError(_("Give one to three delays, in minutes."))
    if any(delay < 0 for delay in value) or value != sorted(value):
        raise ValidationError(
            _("Delays are minutes after the failure (0: right away), in increasing order.")
        )


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
    # Minutes, not hours (the field's old name, email_delays, was hours; audit rows written
    # before the change still name it, with their hours): 0 sends the first email at once,
    # within quiet hours and the daily cap.
    email_delay_minutes = ArrayField(
        models.PositiveIntegerField(),
        default=default_email_delays,
        validators=[validate_email_delays],
        help_text=_(
            "Minutes after the failure for each recovery email (up to three); 0 is right away."
        ),
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
    # How long a sale may be recovered: an open sale is marked lost this many days after its
    # first failure (recovery.expire_lost_sales), and a success of another order recovers it
    # only within this many days of its latest failure (payments.services.ingest).
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
