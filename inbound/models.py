from django.db import models
from django.utils.translation import gettext_lazy as _

from storefront_settings import connections
from storefront_settings.models import Storefront
from storefront_settings.tenancy import TenantModel


class InboundEvent(TenantModel):
    """One webhook event as the provider sent it, stored before it is acknowledged.

    The raw body is kept so processing can be replayed from the row at any time; the row's own
    status is the queue: a beat job re-enqueues what is still `received` (a broker that was down
    when the webhook arrived loses nothing)."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Ignored")
        FAILED = "failed", _("Failed")
        # Not confirmed by its source: a PayPal event PayPal's postback does not verify, a
        # notification naming a payment the provider's API does not know. Kept for ops (and as
        # the trace of a forgery), never processed.
        REJECTED = "rejected", _("Rejected")

    storefront = models.ForeignKey(
        Storefront, on_delete=models.CASCADE, related_name="inbound_events"
    )
    provider = models.CharField(max_length=20, choices=connections.choices)
    event_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=100)
    body = models.TextField()
    headers = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["storefront", "provider", "event_id"], name="uniq_inbound_event"
            ),
        ]
        indexes = [
            models.Index(
                fields=["received_at"],
                condition=models.Q(status="received"),
                name="inbound_event_pending",
            ),
            # The events failed for ops: admin's list of them, and /healthz?detail=1's count,
            # read from this index alone (inbound.selectors.failed_event_count).
            models.Index(
                fields=["received_at"],
                condition=models.Q(status="failed"),
                name="inbound_event_failed",
            ),
        ]

    def __str__(self):
        return f"{self.provider} {self.event_type} {self.event_id}"
