"""The buyer's shipment emails: one per milestone the storefront's policy lists, at most once per
shipment."""

from datetime import date

from babel.dates import format_date
from django.utils import timezone

from notifications.models import MessageKind
from notifications.services import outbox
from storefront_settings.models import Milestone, ShipmentPolicy
from tracking import carriers
from tracking.models import Shipment
from tracking.services.links import tracking_page_url
from tracking.statuses import ShipmentStatus


def carrier_name(carrier: str) -> str:
    """The carrier's name for a buyer; nothing for one we do not know by name."""
    if not carrier or carrier == carriers.Carrier.OTHER:
        return ""
    return str(carriers.Carrier(carrier).label)


def display_date(value: date | None, locale: str) -> str:
    return format_date(value, format="full", locale=locale) if value else ""


def notify(shipment: Shipment, milestone: Milestone, policy: ShipmentPolicy | None = None) -> bool:
    """Schedule a milestone email, at most once per shipment and milestone, per policy."""
    storefront = shipment.storefront
    # No address, or one no email can go to (the API and the import refuse one, but
    # create_shipment() itself does not check): nothing to send, and the shipment is recorded
    # and the carrier's news applied all the same, where schedule()'s refusal would undo them.
    if not shipment.buyer_email or not outbox.is_valid_address(shipment.buyer_email):
        return False
    policy = policy or ShipmentPolicy.for_storefront(storefront)
    if milestone not in policy.milestones:
        return False
    locale = shipment.locale
    pickup_location = ""
    if milestone == Milestone.AVAILABLE_FOR_PICKUP:
        point = shipment.checkpoints.filter(status=ShipmentStatus.AVAILABLE_FOR_PICKUP).first()
        pickup_location = point.location if point else ""
    outbox.schedule(
        storefront,
        to=shipment.buyer_email,
        template=f"shipment_{milestone}",
        context={
            "order_reference": shipment.order_reference,
            "buyer_name": shipment.buyer_name,
            "tracking_number": shipment.tracking_number,
            "carrier_name": carrier_name(shipment.carrier),
            "tracking_url": tracking_page_url(shipment),
            "carrier_tracking_url": shipment.carrier_tracking_url,
            "promised_delivery_date": display_date(shipment.promised_delivery_date, locale),
            "estimated_delivery_date": display_date(shipment.estimated_delivery_date, locale),
            "pickup_location": pickup_location,
            "status_description": shipment.status_description,
        },
        send_at=timezone.now(),
        idempotency_key=f"shipment:{shipment.pk}:{milestone}",
        # Delivered cancels what is still scheduled; its own email stays out of the group.
        group="" if milestone == Milestone.DELIVERED else shipment.group,
        kind=MessageKind.SHIPMENT_UPDATE,
        locale=locale,
        about=shipment,
    )
    return True
