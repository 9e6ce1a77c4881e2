"""Read queries over shipments. Every one takes the storefront first."""

from django.db.models import Q

from storefront_settings.models import Storefront
from tracking.models import NOT_FINAL, Shipment
from tracking.statuses import ShipmentStatus

# The parcels that need the merchant's attention, each counted by a partial index
# (tracking.models.Shipment.Meta.indexes). Stalled is cleared once a parcel is final; late is
# not (a parcel delivered late stays late), so "still late" excludes the final ones.
ATTENTION = {
    "stalled": Q(stalled_since__isnull=False),
    "late": Q(late_since__isnull=False) & NOT_FINAL,
    "exception": Q(status=ShipmentStatus.EXCEPTION),
}


def attention_counts(*, storefront: Storefront) -> dict[str, int]:
    """How many parcels are stalled, still late, and in exception now (one may be several)."""
    shipments = Shipment.objects.for_storefront(storefront)
    return {name: shipments.filter(condition).count() for name, condition in ATTENTION.items()}
