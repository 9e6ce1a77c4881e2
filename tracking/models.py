import secrets

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from storefront_settings.models import Language, Storefront
from storefront_settings.tenancy import TenantModel
from tracking.carriers import Carrier
from tracking.statuses import FINAL, ShipmentStatus

NOT_FINAL = ~Q(status__in=sorted(FINAL))

# 22 random bytes (176 bits), 30 URL-safe characters: unguessable, and naming nothing.
PAGE_TOKEN_BYTES = 22


def new_page_token() -> str:
    return secrets.token_urlsafe(PAGE_TOKEN_BYTES)


class Shipment(TenantModel):
    """A parcel on its way to a buyer: what the shop told us, and what the carriers said since.

    `status` follows the newest checkpoint by its own time, never an older one that arrives
    late. Stalled (no news for N days while not final) and late (past the promised date) are
    flags the beat watchers set, with the moment they were first seen."""

    storefront = models.ForeignKey(Storefront, on_delete=models.CASCADE, related_name="shipments")
    order_reference = models.CharField(max_length=200, blank=True)
    buyer_email = models.EmailField(blank=True)
    buyer_name = models.CharField(max_length=200, blank=True)
    language = models.CharField(max_length=2, choices=Language.choices, blank=True)
    carrier = models.CharField(max_length=20, choices=Carrier.choices, blank=True)
    carrier_guessed = models.BooleanField(
        default=False, help_text=_("Detected from the tracking number's format.")
    )
    tracking_number = models.CharField(max_length=64)
    shipped_at = models.DateTimeField(null=True, blank=True)
    promised_delivery_date = models.DateField(null=True, blank=True)
    items = models.JSONField(default=list, blank=True)

    status = models.CharField(
        max_length=24, choices=ShipmentStatus.choices, default=ShipmentStatus.PENDING
    )
    status_at = models.DateTimeField(null=True, blank=True)
    status_description = models.CharField(max_length=500, blank=True)
    estimated_delivery_date = models.DateField(null=True, blank=True)
    carrier_tracking_url = models.URLField(max_length=1000, blank=True)
    # Carrier news, for the stalled watcher: the newest checkpoint's time, or the shipment's
    # creation while there is none.
    last_news_at = models.DateTimeField()
    stalled_since = models.DateTimeField(null=True, blank=True)
    late_since = models.DateTimeField(null=True, blank=True)
    # The buyer's tracking page is /t/<page_token>/. Kept as it is (not hashed): the dashboard
    # shows the link, the API returns it, and emails written days later (stalled, late,
    # delivered) carry it, so it must be readable again; a hash would force a new link, and a
    # dead one in the buyer's mailbox, each time. Revoking replaces it. Unique per storefront
    # like every constraint here (uniq_shipment_page_token), and indexed alone for the page's
    # lookup: 176 random bits do not collide across storefronts.
    page_token = models.CharField(
        max_length=64, db_index=True, default=new_page_token, editable=False
    )
    # Links issued before page_token existed were signed (storefront and shipment ids): they
    # keep opening this page until its link is first revoked
    # (tracking.services.links.revoke_page_link).
    signed_link_valid = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["storefront", "carrier", "tracking_number"], name="uniq_shipment"
            ),
            models.UniqueConstraint(
                fields=["storefront", "page_token"], name="uniq_shipment_page_token"
            ),
        ]
        indexes = [
            models.Index(fields=["storefront", "tracking_number"], name="shipment_number"),
            models.Index(fields=["storefront", "-created_at"], name="shipment_list"),
            models.Index(fields=["storefront", "order_reference"], name="shipment_order"),
            # The dashboard's search by the buyer's address and its period filter.
            models.Index(fields=["storefront", "buyer_email"], name="shipment_buyer"),
            models.Index(fields=["storefront", "-shipped_at"], name="shipment_shipped"),
            # The watchers' sweeps: only parcels still moving, not yet flagged.
            models.Index(
                fields=["last_news_at"],
                condition=NOT_FINAL & Q(stalled_since__isnull=True),
                name="shipment_stall_watch",
            ),
            models.Index(
                fields=["promised_delivery_date"],
                condition=NOT_FINAL & Q(late_since__isnull=True),
                name="shipment_late_watch",
            ),
            # The dashboard's parcels needing attention (tracking.selectors.ATTENTION): counted
            # on the overview, listed newest first by the shipments page's filters.
            models.Index(
                fields=["storefront", "-created_at"],
                condition=Q(stalled_since__isnull=False),
                name="shipment_stalled",
            ),
            models.Index(
                fields=["storefront", "-created_at"],
                condition=Q(late_since__isnull=False) & NOT_FINAL,
                name="shipment_still_late",
            ),
            models.Index(
                fields=["storefront", "-created_at"],
                condition=Q(status="exception"),
                name="shipment_exception",
            ),
        ]

    def __str__(self):
        return f"{self.tracking_number} ({self.status})"

    @property
    def group(self) -> str:
        """The notifications group of this parcel's emails."""
        return f"shipment:{self.pk}"

    @property
    def stalled(self) -> bool:
        return self.stalled_since is not None

    @property
    def late(self) -> bool:
        return self.late_since is not None

    @property
    def locale(self) -> str:
        return self.language or self.storefront.language


class Checkpoint(TenantModel):
    """One step of the parcel's journey as a source reported it, stored once."""

    storefront = models.ForeignKey(Storefront, on_delete=models.CASCADE, related_name="+")
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="checkpoints")
    occurred_at = models.DateTimeField()
    status = models.CharField(max_length=24, choices=ShipmentStatus.choices)
    raw_status = models.CharField(max_length=100, blank=True)
    raw_detail = models.CharField(max_length=100, blank=True)
    description = models.CharField(max_length=500, blank=True)
    location = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=20)
    # The same step reported twice (or by two sources) is one row: what identifies it.
    fingerprint = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["storefront", "shipment", "fingerprint"], name="uniq_checkpoint"
            ),
        ]
        ordering = ["-occurred_at"]

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.status}"
