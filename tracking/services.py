"""Shipments in, carrier news applied, buyers told at each milestone, stalled and late flagged.

Updates arrive duplicated and out of order: checkpoints are stored once (a fingerprint per
step), and the shipment's status is always the status of its newest checkpoint by the
checkpoint's own time, so replaying or reordering updates gives the same state.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime

from babel.dates import format_date
from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.db.models import Min
from django.urls import reverse
from django.utils import timezone

from inbound import services as inbound
from inbound.models import InboundEvent
from notifications.models import MessageKind
from notifications.services import outbox
from notifications.services.outbox import normalise_email
from storefront_settings import connections
from storefront_settings.models import AuditAction, Milestone, ShipmentPolicy, Storefront
from storefront_settings.services.audit import changes as audit_changes
from storefront_settings.services.audit import record
from tracking import carriers
from tracking.models import Checkpoint, Shipment, new_page_token
from tracking.signals import TrackingSignal
from tracking.statuses import FINAL, ShipmentStatus

# The salt of the signed links issued before random tokens (still read, never issued).
SIGNED_PAGE_SALT = "tracking.page"

# The status that makes each milestone email, and the template it uses.
MILESTONE_OF_STATUS = {
    ShipmentStatus.OUT_FOR_DELIVERY: Milestone.OUT_FOR_DELIVERY,
    ShipmentStatus.DELIVERED: Milestone.DELIVERED,
    ShipmentStatus.FAILED_ATTEMPT: Milestone.FAILED_ATTEMPT,
    ShipmentStatus.AVAILABLE_FOR_PICKUP: Milestone.AVAILABLE_FOR_PICKUP,
    ShipmentStatus.EXCEPTION: Milestone.EXCEPTION,
}


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
        _notify(shipment, Milestone.SHIPPED)
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
            _notify(shipment, milestone)
    return shipment


def _fingerprint(point) -> str:
    key = json.dumps(
        [point.occurred_at.isoformat(), point.status, point.description.strip().lower()]
    )
    return hashlib.sha256(key.encode()).hexdigest()


def tracking_page_url(shipment: Shipment) -> str:
    """The buyer's link: SITE_URL and /t/<the shipment's random token>/, no id in it."""
    return settings.SITE_URL + reverse("tracking:page", args=[shipment.page_token])


def shipment_for_page(token: str) -> Shipment | None:
    """The shipment whose tracking page this token opens; None for a guessed, altered or
    revoked one. The token alone names the shipment (and so its storefront)."""
    # Crossing tenants is the point: the token is what tells us the storefront.
    shipment = Shipment.unscoped.select_related("storefront").filter(page_token=token).first()
    if shipment is not None or ":" not in token:
        return shipment
    # A signed link issued before random tokens (a random one has no colon), honoured until
    # the shipment's link is first revoked.
    try:
        payload = signing.loads(token, salt=SIGNED_PAGE_SALT)
        storefront_id, shipment_id = int(payload["s"]), int(payload["h"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    return (
        Shipment.objects.for_storefront(storefront_id)
        .select_related("storefront")
        .filter(pk=shipment_id, signed_link_valid=True)
        .first()
    )


@transaction.atomic
def revoke_page_link(*, shipment: Shipment, actor) -> Shipment:
    """Give the shipment a new tracking link; the old one (and any older signed link) is 404
    from now on. Emails not yet sent get the new link."""
    storefront = shipment.storefront
    locked = Shipment.objects.for_storefront(storefront).select_for_update().get(pk=shipment.pk)
    old_url = tracking_page_url(locked)
    locked.page_token = new_page_token()
    locked.signed_link_valid = False
    locked.save(update_fields=["page_token", "signed_link_valid", "updated_at"])
    # Their context was written with the old link when they were scheduled.
    outbox.replace_in_unsent(
        storefront, about=locked, key="tracking_url", old=old_url, new=tracking_page_url(locked)
    )
    record(
        storefront=storefront,
        actor=actor,
        action=AuditAction.SHIPMENT_LINK_REVOKED,
        shipment=locked.pk,
        tracking_number=locked.tracking_number,
    )
    shipment.page_token, shipment.signed_link_valid = locked.page_token, False
    return shipment


def carrier_name(carrier: str) -> str:
    """The carrier's name for a buyer; nothing for one we do not know by name."""
    if not carrier or carrier == carriers.Carrier.OTHER:
        return ""
    return str(carriers.Carrier(carrier).label)


def display_date(value: date | None, locale: str) -> str:
    return format_date(value, format="full", locale=locale) if value else ""


def _notify(shipment: Shipment, milestone: Milestone, policy: ShipmentPolicy | None = None) -> bool:
    """Schedule a milestone email, at most once per shipment and milestone, per policy."""
    storefront = shipment.storefront
    if not shipment.buyer_email:
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


def flag_stalled(*, now: datetime | None = None) -> int:
    """Flag, in one statement, every moving parcel with no carrier news for its storefront's
    number of days; then tell each newly stalled parcel's buyer, once, per policy."""
    now = now or timezone.now()
    table = Shipment._meta.db_table
    policy = ShipmentPolicy._meta.db_table
    default_days = ShipmentPolicy._meta.get_field("stalled_days").default
    # No storefront waits less than the shortest setting: a bound the index can use, so the
    # sweep reads only parcels quiet for that long instead of every parcel in transit.
    shortest = ShipmentPolicy.unscoped.aggregate(days=Min("stalled_days"))["days"]
    shortest = min(default_days, shortest or default_days)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table} AS s SET stalled_since = %s
            WHERE s.stalled_since IS NULL
              AND s.status <> ALL(%s)
              AND s.last_news_at < %s - make_interval(days => %s)
              AND s.last_news_at < %s - make_interval(days => COALESCE(
                  (SELECT p.stalled_days FROM {policy} p WHERE p.storefront_id = s.storefront_id),
                  %s))
            RETURNING s.id
            """,  # noqa: S608 - table names come from the models, values are parameters
            [now, sorted(FINAL), now, shortest, now, default_days],
        )
        flagged = [row[0] for row in cursor.fetchall()]
    _notify_flagged(flagged, Milestone.STALLED)
    return len(flagged)


def flag_late(*, now: datetime | None = None) -> int:
    """Flag, in one statement, every parcel not delivered by its promised date."""
    now = now or timezone.now()
    table = Shipment._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table} SET late_since = %s
            WHERE late_since IS NULL
              AND status <> ALL(%s)
              AND promised_delivery_date < %s
            RETURNING id
            """,  # noqa: S608 - the table name comes from the model, values are parameters
            [now, sorted(FINAL), now.date()],
        )
        flagged = [row[0] for row in cursor.fetchall()]
    _notify_flagged(flagged, Milestone.DELAY)
    return len(flagged)


def _notify_flagged(ids: list[int], milestone: Milestone) -> None:
    # Only the parcels flagged just now: the sweep itself never loops over all shipments.
    policies: dict[int, ShipmentPolicy] = {}
    for shipment in Shipment.unscoped.select_related("storefront").filter(pk__in=ids):
        if shipment.storefront_id not in policies:
            policies[shipment.storefront_id] = ShipmentPolicy.for_storefront(shipment.storefront)
        _notify(shipment, milestone, policies[shipment.storefront_id])
