"""The canonical shipment statuses of ARCHITECTURE.md. Every source's wording maps into these;
`stalled` and `late` are derived, never stored as a status."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ShipmentStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the carrier")
    INFO_RECEIVED = "info_received", _("Label created")
    IN_TRANSIT = "in_transit", _("In transit")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    FAILED_ATTEMPT = "failed_attempt", _("Delivery attempt failed")
    AVAILABLE_FOR_PICKUP = "available_for_pickup", _("Ready for pickup")
    # Its own context: an email is "delivered" (distribué), a parcel "delivered" (livré).
    DELIVERED = "delivered", pgettext_lazy("parcel", "Delivered")
    EXCEPTION = "exception", _("Problem in delivery")
    RETURNED = "returned", _("Returned to sender")
    EXPIRED = "expired", _("Tracking expired")


# Statuses after which a parcel neither stalls nor runs late.
FINAL = frozenset({ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED, ShipmentStatus.EXPIRED})
