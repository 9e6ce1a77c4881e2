from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models.functions import Lower, Trim, Upper
from django.utils.translation import gettext_lazy as _

from inbound.models import InboundEvent
from payments.reasons import FailureReason
from storefront_settings import connections
from storefront_settings.models import Storefront
from storefront_settings.tenancy import TenantModel


class LostSale(TenantModel):
    """A sale in danger: one per order (and buyer), however many attempts failed.

    open → recovered (a payment for the same order succeeded, or the buyer paid another order
    in its place: `recovered_by`) or lost (the recovery window passed, or the merchant said so).
    Recovered is final; only which payment settled it may still change (payments.services.
    ingest: the order's own payment outranks another order's, an earlier one a later one)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RECOVERED = "recovered", _("Recovered")
        LOST = "lost", _("Lost")

    class RecoveredBy(models.TextChoices):
        """What paid a recovered sale."""

        # The order itself: the same payment, or another payment for the same order reference.
        SAME_ORDER = "same_order", _("Paid for this order")
        # The same buyer paid another order at the storefront instead, within the recovery
        # window and for most of the amount (payments.services.ingest).
        ANOTHER_ORDER = "another_order", _("Paid with another order")

    storefront = models.ForeignKey(Storefront, on_delete=models.CASCADE, related_name="lost_sales")
    # The order reference, or the provider's payment id when the shop gave none, plus the
    # buyer's address: what makes two failures the same sale.
    key = models.CharField(max_length=400)
    order_reference = models.CharField(max_length=200, blank=True)
    provider = models.CharField(max_length=20, choices=connections.choices)
    buyer_email = models.EmailField(blank=True)
    # The address the provider gave when no email can be sent to it (a quoted local part with
    # spaces…), kept as given for the merchant; buyer_email stays empty, so the sale counts as
    # unreachable like one without an address. Cleared when a later event brings a valid one.
    invalid_buyer_email = models.CharField(
        max_length=500,
        blank=True,
        help_text="The address the provider gave, when it is not one an email can be sent to "
        "(buyer_email is then empty)",
    )
    buyer_name = models.CharField(max_length=200, blank=True)
    buyer_phone = models.CharField(max_length=40, blank=True)
    amount = models.PositiveBigIntegerField(null=True, blank=True, help_text="Minor units")
    currency = models.CharField(max_length=3, blank=True)
    reason = models.CharField(max_length=40, choices=FailureReason.choices)
    codes = models.JSONField(default=dict, blank=True, help_text="The provider's raw codes")
    recovery_url = models.URLField(max_length=2000, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    attempts = models.PositiveIntegerField(default=0)
    first_failed_at = models.DateTimeField()
    last_failed_at = models.DateTimeField()
    recovered_at = models.DateTimeField(null=True, blank=True)
    # The revenue this recovery counts (minor units): the paying success's amount (None when it
    # gave none: the sale's amount counts). A success that settles several sales counts once
    # (payments.services.ingest._credit): 0 on the others.
    recovered_amount = models.PositiveBigIntegerField(null=True, blank=True)
    recovered_by = models.CharField(max_length=20, choices=RecoveredBy.choices, blank=True)
    recovered_by_payment = models.ForeignKey(
        "Payment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        # Indexed by lost_sale_recovered_by, for the recovered sales only.
        db_index=False,
        help_text="The successful payment that settled the sale, when known",
    )
    recovery_clicked_at = models.DateTimeField(null=True, blank=True)
    recovered_after_click = models.BooleanField(default=False)
    lost_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["storefront", "key"], name="uniq_lost_sale"),
        ]
        indexes = [
            models.Index(fields=["storefront", "status", "-last_failed_at"], name="lost_sale_list"),
            # The overview's unreachable buyers: the open sales' addresses, read from the index
            # alone (payments.selectors.unreachable_open_sales).
            models.Index(
                fields=["storefront", "buyer_email"],
                condition=models.Q(status="open"),
                name="lost_sale_open_email",
            ),
            # The dashboard's list, newest first (its default order and its date filters)...
            models.Index(fields=["storefront", "-last_failed_at", "-id"], name="lost_sale_recent"),
            models.Index(
                fields=["storefront", "reason", "-last_failed_at"], name="lost_sale_reason"
            ),
            # ...and its search box, any part of an order reference or an address in any case
            # (icontains: UPPER(…) LIKE '%…%'), answered from trigrams rather than by a scan.
            GinIndex(
                OpClass(Upper("order_reference"), name="gin_trgm_ops"), name="lost_sale_order_trgm"
            ),
            GinIndex(
                OpClass(Upper("buyer_email"), name="gin_trgm_ops"), name="lost_sale_email_trgm"
            ),
            # The sales a success settled (payments.services.ingest._credit).
            models.Index(
                fields=["recovered_by_payment"],
                condition=models.Q(recovered_by_payment__isnull=False),
                name="lost_sale_recovered_by",
            ),
            # A buyer's sales by normalised address, for a success of another order
            # (payments.services.ingest: same storefront, address, within the window).
            models.Index(
                models.F("storefront"),
                Lower(Trim("buyer_email")),
                models.F("first_failed_at"),
                name="lost_sale_buyer",
            ),
        ]

    def __str__(self):
        return f"{self.order_reference or self.key} ({self.status})"

    @property
    def group(self) -> str:
        """The notifications group of this sale's recovery emails."""
        return f"lost-sale:{self.pk}"

    @property
    def is_reachable(self) -> bool:
        return bool(self.buyer_email)


class Payment(TenantModel):
    """One payment as the provider knows it (a payment intent, a checkout, a PSP reference)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        FAILED = "failed", _("Failed")
        ABANDONED = "abandoned", _("Abandoned")
        SUCCEEDED = "succeeded", _("Succeeded")

    storefront = models.ForeignKey(Storefront, on_delete=models.CASCADE, related_name="payments")
    provider = models.CharField(max_length=20, choices=connections.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    amount = models.PositiveBigIntegerField(null=True, blank=True, help_text="Minor units")
    currency = models.CharField(max_length=3, blank=True)
    order_reference = models.CharField(max_length=200, blank=True)
    buyer_email = models.EmailField(blank=True)
    buyer_name = models.CharField(max_length=200, blank=True)
    buyer_phone = models.CharField(max_length=40, blank=True)
    lost_sale = models.ForeignKey(
        LostSale, null=True, blank=True, on_delete=models.SET_NULL, related_name="payments"
    )
    # The `created` time of the newest event applied: an older event never overwrites it.
    last_event_at = models.DateTimeField()
    succeeded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # A buyer's successful payments by normalised address: what a failure looks up to
            # know whether the buyer has paid another order since (payments.services.ingest).
            models.Index(
                models.F("storefront"),
                Lower(Trim("buyer_email")),
                models.F("succeeded_at"),
                condition=models.Q(status="succeeded"),
                name="payment_success_buyer",
            ),
        ]

    def __str__(self):
        return f"{self.provider} payment {self.order_reference} ({self.status})"


class PaymentReference(TenantModel):
    """An id the provider uses for a payment: a payment intent, its charges, its checkout
    session. Events name different ones; all lead to the same Payment."""

    storefront = models.ForeignKey(Storefront, on_delete=models.CASCADE, related_name="+")
    provider = models.CharField(max_length=20, choices=connections.choices)
    reference = models.CharField(max_length=255)
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="references")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["storefront", "provider", "reference"], name="uniq_payment_reference"
            ),
        ]

    def __str__(self):
        return self.reference


class PaymentAttempt(TenantModel):
    """One failed (or abandoned) attempt, as one provider event reported it."""

    storefront = models.ForeignKey(Storefront, on_delete=models.CASCADE, related_name="+")
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="attempts")
    inbound_event = models.ForeignKey(
        InboundEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The attempt as the provider identifies it (a charge id…): two events about one attempt
    # (Stripe's charge.failed and payment_intent.payment_failed) record it once.
    attempt_key = models.CharField(max_length=255)
    event_type = models.CharField(max_length=100)
    occurred_at = models.DateTimeField()
    reason = models.CharField(max_length=40, choices=FailureReason.choices)
    codes = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["storefront", "payment", "attempt_key"], name="uniq_payment_attempt"
            ),
        ]
        ordering = ["occurred_at"]

    def __str__(self):
        return f"{self.reason} at {self.occurred_at:%Y-%m-%d %H:%M}"


class DailyStat(TenantModel):
    """Running totals of the lost sales per storefront, local day, reason and currency: what
    the dashboard's overview reads instead of scanning a big shop's sales on every load.

    Kept current by payments.stats inside the transactions that change a sale (each change
    adds its difference with INSERT … ON CONFLICT DO UPDATE); payments.stats.rebuild()
    recomputes them from the sales. Two dates bucket a sale: the day of its latest failed
    attempt (`failed_*`, and the sale's status now: `open_count`, `recovered_count`,
    `lost_count`), and the day it was recovered (`recoveries`, `recovered_revenue`, and the part
    of them that followed a click on a recovery link). Days are the storefront's calendar days.
    Amounts are minor units of `currency`."""

    storefront = models.ForeignKey(Storefront, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    reason = models.CharField(max_length=40, choices=FailureReason.choices)
    currency = models.CharField(max_length=3, blank=True)
    failed_count = models.BigIntegerField(default=0)
    failed_amount = models.BigIntegerField(default=0)
    open_count = models.BigIntegerField(default=0)
    recovered_count = models.BigIntegerField(default=0)
    lost_count = models.BigIntegerField(default=0)
    recoveries = models.BigIntegerField(default=0)
    recovered_revenue = models.BigIntegerField(default=0)
    recovered_after_click_count = models.BigIntegerField(default=0)
    recovered_after_click_revenue = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["storefront", "day", "reason", "currency"], name="uniq_daily_stat"
            ),
        ]

    def __str__(self):
        return f"{self.day} {self.reason} {self.currency}"
