"""The history's parcels: shipped as the shop's API call records them, moved on by their
carriers' updates (EasyPost's and AfterShip's samples, through tracking's own processing), and
flagged stalled or late by the hourly watchers, as they would have been.

Most parcels' journeys are drawn to fit their age; a few scenarios make sure every demo shows
each status, a stalled parcel and a late one.
"""

from datetime import datetime, time, timedelta

from demo import events, numbers, orders, shop
from demo.history.timeline import Timeline
from notifications.models import Message
from tracking.models import Shipment
from tracking.providers import Step
from tracking.services import ingest as tracking_ingest
from tracking.services import shipments as tracking_shipments
from tracking.services import watch
from tracking.statuses import ShipmentStatus as S

# Parcels every demo shows whatever the dice say: (shipped hours ago, carrier, steps as
# (status, hours after shipping)). Stalled ones have had no news for days (one never had any);
# the late one still moves, past the date the shop promised.
SCENARIOS = (
    (3, "colissimo", []),
    (120, "mondial_relay", []),
    (20, "chronopost", [(S.INFO_RECEIVED, 1)]),
    (216, "colissimo", [(S.INFO_RECEIVED, 1), (S.IN_TRANSIT, 10), (S.IN_TRANSIT, 30)]),
    (190, "dpd", [(S.INFO_RECEIVED, 1), (S.IN_TRANSIT, 12), (S.IN_TRANSIT, 40)]),
    (
        150,
        "colissimo",
        [(S.INFO_RECEIVED, 1), (S.IN_TRANSIT, 10), (S.IN_TRANSIT, 60), (S.IN_TRANSIT, 125)],
    ),
    (
        46,
        "ups",
        [(S.INFO_RECEIVED, 1), (S.IN_TRANSIT, 10), (S.IN_TRANSIT, 30), (S.OUT_FOR_DELIVERY, 43)],
    ),
    (
        52,
        "colissimo",
        [
            (S.INFO_RECEIVED, 1),
            (S.IN_TRANSIT, 10),
            (S.OUT_FOR_DELIVERY, 44),
            (S.FAILED_ATTEMPT, 47),
        ],
    ),
    (
        62,
        "mondial_relay",
        [
            (S.INFO_RECEIVED, 1),
            (S.IN_TRANSIT, 10),
            (S.IN_TRANSIT, 30),
            (S.AVAILABLE_FOR_PICKUP, 52),
        ],
    ),
    (74, "gls", [(S.INFO_RECEIVED, 1), (S.IN_TRANSIT, 10), (S.EXCEPTION, 60)]),
    (
        480,
        "chronopost",
        [(S.INFO_RECEIVED, 1), (S.IN_TRANSIT, 10), (S.EXCEPTION, 60), (S.RETURNED, 170)],
    ),
    (910, "colissimo", [(S.INFO_RECEIVED, 1), (S.EXPIRED, 24 * 30 + 2)]),
    (
        300,
        "dhl",
        [(S.INFO_RECEIVED, 1), (S.IN_TRANSIT, 9), (S.OUT_FOR_DELIVERY, 30), (S.DELIVERED, 33)],
    ),
)


def plan(timeline: Timeline, shipped: datetime, order: orders.Order, scenario) -> None:
    rng = timeline.rng
    timeline.summary.shipments += 1
    if scenario:
        carrier, journey = scenario
    else:
        carrier = numbers.pick_carrier(rng)
        journey = _journey(timeline, timeline.now - shipped, events.source_for(carrier))
    number = numbers.tracking_number(rng, carrier)
    promised = shop.business_days_after(
        shipped.astimezone(shop.PARIS).date(), 4 if carrier == "mondial_relay" else 2
    )
    data = tracking_shipments.NewShipment(
        order_reference=order.reference,
        buyer_email=order.buyer.email,
        buyer_name=order.buyer.name,
        tracking_number=number,
        # Most shops name the carrier; some leave it to the number's format.
        carrier="" if rng.random() < 0.2 else carrier,
        shipped_at=shipped,
        promised_delivery_date=promised,
        items=tuple({"name": name, "quantity": 1, "price": price} for name, price in order.items),
    )
    timeline.at(shipped, lambda: _create_shipment(timeline, data))
    steps: list[Step] = []
    for status, hours in journey:
        when = shipped + timedelta(hours=hours, minutes=rng.randint(0, 50))
        if when >= timeline.now:
            break
        steps.append(events.make_step(rng, status, when, first=not steps))
    for index, step in enumerate(steps):
        # One update per change of status (a scan that changes nothing rides along with the
        # next one): fewer events to replay, the same checkpoints in the end.
        if index + 1 < len(steps) and steps[index + 1].status == step.status:
            continue
        so_far = steps[: index + 1]
        timeline.at(
            step.at,
            lambda so_far=so_far: _track(timeline, carrier, number, order, so_far, promised),
        )


def _journey(timeline: Timeline, age: timedelta, source: str) -> list[tuple[str, float]]:
    """A parcel's steps (status, hours after shipping), chosen to fit its age."""
    rng, hours = timeline.rng, age.total_seconds() / 3600
    start = [(S.INFO_RECEIVED, 1), (S.IN_TRANSIT, rng.uniform(8, 14))]
    attempts = source == "aftership"  # EasyPost has no "failed attempt"
    finals = [
        (70, [(S.IN_TRANSIT, 26), (S.OUT_FOR_DELIVERY, 44), (S.DELIVERED, 49)]),
        (12, [(S.IN_TRANSIT, 30), (S.AVAILABLE_FOR_PICKUP, 50), (S.DELIVERED, 98)]),
        (
            6 * attempts,
            [
                (S.OUT_FOR_DELIVERY, 44),
                (S.FAILED_ATTEMPT, 47),
                (S.OUT_FOR_DELIVERY, 68),
                (S.DELIVERED, 71),
            ],
        ),
        (4, [(S.IN_TRANSIT, 30), (S.EXCEPTION, 60), (S.RETURNED, 170)]),
        (
            3,
            [
                (S.EXCEPTION, 40),
                (S.IN_TRANSIT, 70),
                (S.OUT_FOR_DELIVERY, 92),
                (S.DELIVERED, 95),
            ],
        ),
    ]
    if hours > 24 * 32 and rng.random() < 0.08:
        return [(S.INFO_RECEIVED, 1), (S.EXPIRED, 24 * 30 + 2)]
    if hours > 24 * 9 and rng.random() < 0.04:
        return [*start, (S.EXCEPTION, 36)]  # never resolved: stalled in exception
    if hours < 6:
        return [] if rng.random() < 0.5 else start[:1]  # pending, or label created
    if hours > 24 * 5:
        weights, tails = zip(*finals, strict=True)
        return start + rng.choices(tails, weights=weights)[0]
    # Under five days: the parcel is somewhere on its way.
    now_h = hours - rng.uniform(0.5, 10)
    current = rng.choices(
        [
            S.IN_TRANSIT,
            S.OUT_FOR_DELIVERY,
            S.FAILED_ATTEMPT,
            S.AVAILABLE_FOR_PICKUP,
            S.EXCEPTION,
            S.DELIVERED,
        ],
        weights=[30, 8, 6 * attempts, 8, 6, 30],
    )[0]
    middle = [(S.IN_TRANSIT, h) for h in (20, 34, 50, 70) if h < now_h - 6]
    if current == S.FAILED_ATTEMPT:
        middle.append((S.OUT_FOR_DELIVERY, now_h - 3))
    if current == S.DELIVERED:
        middle.append((S.OUT_FOR_DELIVERY, now_h - 5))
    return [*start, *middle, (current, now_h)] if now_h > 16 else start


def _create_shipment(timeline: Timeline, data: tracking_shipments.NewShipment) -> None:
    shipment = tracking_shipments.create_shipment(timeline.storefront, data)
    Shipment.objects.for_storefront(timeline.storefront).filter(pk=shipment.pk).update(
        created_at=data.shipped_at, last_news_at=data.shipped_at
    )


def _track(timeline: Timeline, carrier, number, order, steps, promised) -> None:
    source, event = events.tracking_event(
        timeline.rng,
        carrier=carrier,
        number=number,
        order_reference=order.reference,
        steps=steps,
        estimated=promised,
    )
    event_id, event_type = events.identity(source, event)
    stored = timeline.store(source, event_id, event_type, event)
    tracking_ingest.process_inbound_event(event_id=stored.pk)


def flag(timeline: Timeline) -> None:
    """The hourly watchers, as they would have flagged these parcels: run now, then dated to
    when each parcel crossed the line."""
    watch.flag_stalled(now=timeline.now)
    watch.flag_late(now=timeline.now)
    shipments = Shipment.objects.for_storefront(timeline.storefront)
    for shipment in shipments.filter(stalled_since__isnull=False):
        when = min(
            shipment.last_news_at + timedelta(days=timeline.stalled_days, minutes=15),
            timeline.now,
        )
        shipments.filter(pk=shipment.pk).update(stalled_since=when)
        _date_flag_email(timeline, shipment, "shipment_stalled", when)
    for shipment in shipments.filter(late_since__isnull=False):
        day = shipment.promised_delivery_date + timedelta(days=1)
        when = min(datetime.combine(day, time(6, 15), tzinfo=shop.PARIS), timeline.now)
        shipments.filter(pk=shipment.pk).update(late_since=when)
        _date_flag_email(timeline, shipment, "shipment_delay", when)


def _date_flag_email(timeline: Timeline, shipment, template: str, when: datetime) -> None:
    Message.objects.for_storefront(timeline.storefront).filter(
        about_id=str(shipment.pk), template=template, created_at__gte=timeline.stamped_after
    ).update(send_at=when, next_attempt_at=when, created_at=when)
