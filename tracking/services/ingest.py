"""Carrier news applied: a stored tracking event's signals (its connection's adapter) become
checkpoints, the shipment's status, and the milestone emails.

Updates arrive duplicated and out of order: checkpoints are stored once (a fingerprint per
step), and the shipment's status is always the status of its newest checkpoint by the
checkpoint's own time, so replaying or reordering updates gives the same state.
"""

import hashlib
import json

from django.db import transaction

from inbound import services as inbound
from inbound.models import InboundEvent
from notifications.services import outbox
from storefront_settings import connections
from storefront_settings.models import Milestone, Storefront
from tracking import carriers
from tracking.models import Checkpoint, Shipment
from tracking.services import milestones
from tracking.signals import TrackingSignal
from tracking.statuses import FINAL, ShipmentStatus

# The status that makes each milestone email, and the template it uses.
MILESTONE_OF_STATUS = {
    ShipmentStatus.OUT_FOR_DELIVERY: Milestone.OUT_FOR_DELIVERY,
    ShipmentStatus.DELIVERED: Milestone.DELIVERED,
    ShipmentStatus.FAILED_ATTEMPT: Milestone.FAILED_ATTEMPT,
    ShipmentStatus.AVAILABLE_FOR_PICKUP: Milestone.AVAILABLE_FOR_PICKUP,
    ShipmentStatus.EXCEPTION: Milestone.EXCEPTION,
}


def process_inbound_event(*, event_id: int) -> str:
    """Apply one stored tracking event; returns what became of it. Safe to run twice."""
    with transaction.atomic():
        event = inbound.claim(event_id)
        if event is None:
            return "skipped"
        signals = connections.get(event.provider).adapter.signals(event.body)
        if not signals:
            inbound.finish(event, status=InboundEvent.Status.IGNORED)
            return "ignored"
        unknown = [
            s.tracking_number
            for s in signals
            if apply_signal(storefront=event.storefront, signal=s) is None
        ]
        if unknown:
            # Kept and reported, not dropped: ops find it by its error, and replay it once
            # the shop has created the shipment.
            inbound.finish(
                event,
                status=InboundEvent.Status.IGNORED,
                error=f"No shipment with tracking number {', '.join(unknown)}",
            )
            return "unknown"
        inbound.finish(event, status=InboundEvent.Status.PROCESSED)
        return "processed"


def find_shipment(storefront: Storefront, tracking_number: str, carrier: str = ""):
    """The storefront's shipment with this number; the carrier breaks a tie."""
    number = carriers.normalise_tracking_number(tracking_number)
    candidates = list(
        Shipment.objects.for_storefront(storefront)
        .select_for_update()
        .select_related("storefront")
        .filter(tracking_number=number)
        .order_by("pk")
    )
    if len(candidates) > 1 and carrier:
        candidates = [s for s in candidates if s.carrier == carrier] or candidates
    return candidates[0] if candidates else None


def apply_signal(*, storefront: Storefront, signal: TrackingSignal) -> Shipment | None:
    shipment = find_shipment(storefront, signal.tracking_number, signal.carrier)
    if shipment is None:
        return None
    Checkpoint.objects.bulk_create(
        [
            Checkpoint(
                storefront=storefront,
                shipment=shipment,
                occurred_at=point.occurred_at,
                status=point.status,
                raw_status=point.raw_status[:100],
                raw_detail=point.raw_detail[:100],
                description=point.description[:500],
                location=point.location[:200],
                source=signal.provider,
                fingerprint=_fingerprint(point),
            )
            for point in signal.checkpoints
            if point.status
        ],
        ignore_conflicts=True,
    )
    before, before_at = shipment.status, shipment.status_at
    newest = shipment.checkpoints.order_by("-occurred_at", "-pk").first()
    if newest is not None:
        shipment.status = newest.status
        shipment.status_at = newest.occurred_at
        shipment.status_description = newest.description
        # The last news is the newest scan, even one older than the shipment's record here.
        shipment.last_news_at = newest.occurred_at
        if before_at is None or newest.occurred_at > before_at:
            shipment.stalled_since = None  # news again: no longer stalled
    elif signal.status and shipment.status_at is None:
        shipment.status = signal.status
    if signal.estimated_delivery:
        shipment.estimated_delivery_date = signal.estimated_delivery
    if signal.carrier and (not shipment.carrier or shipment.carrier_guessed):
        shipment.carrier, shipment.carrier_guessed = signal.carrier, False
    if signal.carrier_tracking_url:
        shipment.carrier_tracking_url = signal.carrier_tracking_url
    if shipment.status in FINAL:
        shipment.stalled_since = None
    shipment.save()
    if shipment.status != before:
        if shipment.status == ShipmentStatus.DELIVERED:
            # Delivered: whatever is still scheduled about this parcel is moot.
            outbox.cancel(storefront, shipment.group)
        milestone = MILESTONE_OF_STATUS.get(shipment.status)
        if milestone:
            milestones.notify(shipment, milestone)
    return shipment


def _fingerprint(point) -> str:
    key = json.dumps(
        [point.occurred_at.isoformat(), point.status, point.description.strip().lower()]
    )
    return hashlib.sha256(key.encode()).hexdigest()
