"""Six weeks of Maison Lune's history, for `make demo`: the entry points seed_demo calls, and the
replay of the history's steps in time order.

Everything goes through the real paths: each provider event is built in the provider's format
(demo.events), stored as an InboundEvent and processed by the domain's own
process_inbound_event, so lost sales, attempts, recovery emails, alerts, shipments, checkpoints
and milestone emails are what production would have made of the same webhooks. Merchant actions
and buyer clicks use the services the dashboard and the recovery link use (mark_lost,
record_click), ESP news goes through notifications.events.record_esp_event.

The orders are drawn first, then each part plans its steps (demo.history.sales, shipments,
outbox), then the steps run in time order. Services stamp "now" on some rows (created_at,
alerts due at once, lost_at…): what each event stamped is moved back to the event's time
(demo.history.stamps), and the outbox's stand-in marks what fell due as sent at the time it
would have gone, so only future recovery steps stay scheduled.

It runs a few thousand short queries; speed matters because `make demo` waits for it.
"""

import random
from datetime import UTC, datetime, time, timedelta

from django.db import transaction
from django.db.models import F, Min, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from demo import orders, shop
from demo.history import outbox, sales, shipments
from demo.history.timeline import Summary, Timeline
from inbound.models import InboundEvent
from notifications.models import Message, Suppression
from payments import stats
from payments.models import DailyStat, LostSale, Payment, PaymentAttempt
from storefront_settings.models import (
    AuditLog,
    Membership,
    PaymentMethod,
    RecoveryPolicy,
    ShipmentPolicy,
    Storefront,
)
from tracking.models import Shipment

DAYS = 42
SEED = 2026


def has_history(storefront: Storefront) -> bool:
    return (
        LostSale.objects.for_storefront(storefront).exists()
        or Shipment.objects.for_storefront(storefront).exists()
    )


@transaction.atomic
def wipe(storefront: Storefront) -> None:
    """Remove what the history (and the trickle) made; the storefront, its members, keys,
    secrets and settings stay."""
    for model in (Message, Suppression, Payment, LostSale, DailyStat, Shipment, InboundEvent):
        model.objects.for_storefront(storefront).delete()
    AuditLog.objects.for_storefront(storefront).filter(action__startswith="lost_sale.").delete()


def configure(storefront: Storefront) -> None:
    """The demo shop's policies: three recovery emails with a discount in the last, a checkout
    link per order, PayPal and bank transfer suggested when a card will not do."""
    policy = RecoveryPolicy.for_storefront(storefront)
    policy.discount_code = "LUNE10"
    policy.discount_wording = "un code de 10 % pour vous remercier de votre patience"
    policy.checkout_url_template = f"{shop.SHOP_URL}/commande/{{order_reference}}/paiement"
    policy.other_payment_methods = [PaymentMethod.PAYPAL, PaymentMethod.BANK_TRANSFER]
    policy.save()
    ShipmentPolicy.for_storefront(storefront)


def seed_history(storefront: Storefront, *, now: datetime | None = None, seed: int = SEED):
    """Fill an empty storefront with DAYS days of history ending at `now`."""
    rng = random.Random(seed)  # noqa: S311 - made-up data, not a secret
    return _run(Timeline(storefront, now or timezone.now(), rng))


def rebuild_aggregates(storefront: Storefront) -> None:
    """The overview's daily statistics, recomputed from the backdated sales (the services kept
    them as they went; a rebuild makes sure they match the dates moved since)."""
    stats.rebuild(storefront=storefront)


# --- The replay ---------------------------------------------------------------------------------


def _run(timeline: Timeline) -> Summary:
    for kind, when, order, scenario in _orders(timeline):
        if kind == "sale":
            sales.plan(timeline, when, order)
        else:
            shipments.plan(timeline, when, order, scenario)
    outbox.plan_suppressions(timeline)
    timeline.steps.sort()
    with transaction.atomic():
        _backdate_storefront(timeline)
        for step in timeline.steps:
            if step.settles:
                outbox.deliver_due(timeline, step.at)
            step.action()
            timeline.stamps.mark(step.at)
        outbox.deliver_due(timeline, timeline.now)
        shipments.flag(timeline)
        outbox.deliver_due(timeline, timeline.now)
        outbox.store_esp_news(timeline)
        _finish_dates(timeline.storefront)
        rebuild_aggregates(timeline.storefront)
    timeline.summary.messages = Message.objects.for_storefront(timeline.storefront).count()
    return timeline.summary


def _orders(timeline: Timeline) -> list[tuple[str, datetime, orders.Order, tuple | None]]:
    """Every order the history talks about, numbered in time order: sales in trouble (about
    three a day), shipments (about two a day) and the parcels every demo should show."""
    rng, now = timeline.rng, timeline.now
    planned = []
    for day in range(DAYS, -1, -1):
        for kind, count in (("sale", rng.randint(2, 4)), ("ship", rng.randint(1, 3))):
            for _ in range(count):
                when = _daytime(timeline, day)
                if when < now - timedelta(minutes=20):
                    planned.append((when, kind, None))
    for hours_ago, carrier, journey in shipments.SCENARIOS:
        planned.append((now - timedelta(hours=hours_ago), "ship", (carrier, journey)))
    planned.sort(key=lambda item: item[0])
    made, number = [], 10412
    for when, kind, scenario in planned:
        number += rng.randint(2, 9)
        reachable = kind == "ship" or rng.random() > 0.06
        order = orders.make_order(rng, orders.order_reference(number), reachable=reachable)
        made.append((kind, when, order, scenario))
    return made


def _daytime(timeline: Timeline, days_ago: int) -> datetime:
    # People shop from morning to late evening, Paris time, most in the evening.
    day = (timeline.now - timedelta(days=days_ago)).astimezone(shop.PARIS).date()
    hour = timeline.rng.choices(
        range(7, 24), weights=[1, 2, 3, 3, 4, 4, 3, 3, 3, 4, 5, 6, 7, 8, 8, 6, 3]
    )[0]
    local = datetime.combine(day, time(hour, timeline.rng.randint(0, 59)), tzinfo=shop.PARIS)
    return local.astimezone(UTC) + timedelta(seconds=timeline.rng.randint(0, 59))


# --- Dates --------------------------------------------------------------------------------------


def _backdate_storefront(timeline: Timeline) -> None:
    start = timeline.now - timedelta(days=DAYS)
    opened = start - timedelta(days=3)
    Storefront.objects.filter(pk=timeline.storefront.pk).update(created_at=opened)
    AuditLog.objects.for_storefront(timeline.storefront).update(created_at=opened)
    Membership.objects.for_storefront(timeline.storefront).update(created_at=opened)


def _finish_dates(storefront: Storefront) -> None:
    LostSale.objects.for_storefront(storefront).update(created_at=F("first_failed_at"))
    for status, column in (("recovered", "recovered_at"), ("lost", "lost_at")):
        LostSale.objects.for_storefront(storefront).filter(status=status).update(
            updated_at=F(column)
        )
    LostSale.objects.for_storefront(storefront).filter(status="open").update(
        updated_at=F("last_failed_at")
    )
    first_attempt = (
        PaymentAttempt.objects.for_storefront(storefront)
        .filter(payment=OuterRef("pk"))
        .values("payment")
        .annotate(first=Min("occurred_at"))
        .values("first")
    )
    Payment.objects.for_storefront(storefront).update(
        created_at=Coalesce(Subquery(first_attempt), F("last_event_at")),
        updated_at=F("last_event_at"),
    )
    Shipment.objects.for_storefront(storefront).update(updated_at=F("last_news_at"))
    Message.objects.for_storefront(storefront).filter(sent_at__isnull=False).update(
        updated_at=F("sent_at")
    )
