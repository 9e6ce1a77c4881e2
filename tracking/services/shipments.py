"""Shipments in: created from the shop's API call, import or order, and corrected by a merchant.
Creating one tells the buyer it has shipped."""

from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from notifications.services.outbox import normalise_email
from storefront_settings.models import AuditAction, Milestone, Storefront
from storefront_settings.services.audit import changes as audit_changes
from storefront_settings.services.audit import record
from tracking import carriers
from tracking.models import Shipment
from tracking.services import milestones


class ShipmentExists(Exception):
    def __init__(self, shipment: Shipment):
        super().__init__(f"shipment {shipment.pk} already exists")
        self.shipment = shipment


@dataclass(frozen=True)
class NewShipment:
    order_reference: str
    buyer_email: str
    tracking_number: str
    buyer_name: str = ""
    language: str = ""
    carrier: str = ""
    shipped_at: datetime | None = None
    promised_delivery_date: date | None = None
    items: tuple = ()


def create_shipment(storefront: Storefront, data: NewShipment, *, actor=None) -> Shipment:
    """Record a shipment and send the buyer the "shipped" email with the tracking link.
    Raises ShipmentExists (with the existing row) for a (carrier, tracking number) already
    known to this storefront.

    With an actor (a member, or an API key), the shipment leaves an audit row; shipments from a
    shop platform's events or a file import do not (an import records one row for the file)."""
    number = carriers.normalise_tracking_number(data.tracking_number)
    carrier, guessed = data.carrier, False
    if not carrier:
        carrier, guessed = carriers.guess(number), True
    now = timezone.now()
    with transaction.atomic():
        # The unique (storefront, carrier, tracking number) decides: a concurrent duplicate
        # gets the row that won (get_or_create retries the read on IntegrityError).
        shipment, created = Shipment.objects.select_related("storefront").get_or_create(
            storefront=storefront,
            carrier=carrier,
            tracking_number=number,
            defaults={
                "order_reference": data.order_reference,
                "buyer_email": normalise_email(data.buyer_email),
                "buyer_name": data.buyer_name,
                "language": data.language,
                "carrier_guessed": guessed,
                "shipped_at": data.shipped_at or now,
                "promised_delivery_date": data.promised_delivery_date,
                "items": list(data.items),
                "carrier_tracking_url": carriers.tracking_url(carrier, number),
                "last_news_at": now,
            },
        )
        if not created:
            raise ShipmentExists(shipment)
        if actor is not None:
            record(
                storefront=storefront,
                actor=actor,
                action=AuditAction.SHIPMENT_CREATED,
                shipment=shipment.pk,
                tracking_number=shipment.tracking_number,
                order_reference=shipment.order_reference,
            )
        milestones.notify(shipment, Milestone.SHIPPED)
    return shipment


CORRECTABLE = ("carrier", "promised_delivery_date", "buyer_email", "buyer_name", "language")


@transaction.atomic
def correct_shipment(shipment: Shipment, changes: dict, *, actor=None) -> Shipment:
    """The shop corrects what it told us (a wrong carrier guess, a new promised date…), with one
    audit row naming each changed field, old → new. Raises ShipmentExists when the corrected
    carrier makes it a twin of another shipment."""
    unknown = set(changes) - set(CORRECTABLE)
    if unknown:
        raise ValueError(f"cannot correct {', '.join(sorted(unknown))}")
    if "buyer_email" in changes:
        changes = {**changes, "buyer_email": normalise_email(changes["buyer_email"])}
    if "carrier" in changes and changes["carrier"] != shipment.carrier:
        twin = (
            Shipment.objects.for_storefront(shipment.storefront)
            .filter(carrier=changes["carrier"], tracking_number=shipment.tracking_number)
            .exclude(pk=shipment.pk)
            .first()
        )
        if twin is not None:
            raise ShipmentExists(twin)
        shipment.carrier_guessed = False
        shipment.carrier_tracking_url = carriers.tracking_url(
            changes["carrier"], shipment.tracking_number
        )
    changed = audit_changes(shipment, changes)
    if "promised_delivery_date" in changes:
        shipment.late_since = None  # judged again against the new date by the next sweep
    for name, value in changes.items():
        setattr(shipment, name, value)
    shipment.save()
    if changed:
        record(
            storefront=shipment.storefront,
            actor=actor,
            action=AuditAction.SHIPMENT_CORRECTED,
            shipment=shipment.pk,
            tracking_number=shipment.tracking_number,
            changed=changed,
        )
    return shipment
