"""The history's sales in trouble: a failed payment (sometimes tried again at once), then, as
the dice say, paid in the end (after a click in a recovery email, or not; for the same order, or
with a new order in its place, which recovers it as "paid with another order"), given up by the
merchant or by the hourly expiry once the recovery window passed, or left open.

Each sale goes through one of the shop's payment providers (demo.checkouts: Stripe, PayPlug,
PayPal, Lyra, Mollie), its failure and its recovery through the same one, with the events that
provider's samples make. Each event is stored as its connection's path stores it and processed
by payments' own processing (ingest.process_inbound_event): for PayPlug and Mollie the history
starts where the worker's fetch ends (the demo has no provider API to fetch from), for PayPal
after the verification PayPal alone can make (demo.checkouts says how). The merchant's and the
buyer's actions go through the services the dashboard and the recovery link use (mark_lost,
record_click).
"""

from datetime import datetime, timedelta

from demo import checkouts, orders
from demo.history import outbox
from demo.history.timeline import Timeline
from notifications.models import Message
from payments.models import LostSale
from payments.reasons import MERCHANT_ONLY, FailureReason
from payments.services import ingest, merchant, recovery


def plan(timeline: Timeline, t0: datetime, order: orders.Order) -> None:
    rng = timeline.rng
    timeline.summary.sales += 1
    reason = _reason_for(timeline, t0)
    checkout = checkouts.checkout_for(rng, reason)(rng, order)
    variants = checkout.variants(reason)
    timeline.at(t0, lambda: _deliver(timeline, checkout.failure(rng, rng.choice(variants), t0)))
    last = t0
    # Some buyers try again at once, with the same result.
    if rng.random() < 0.25 and checkout.retried_at_once(reason):
        for _ in range(rng.choice([1, 1, 2])):
            last = last + timedelta(minutes=rng.randint(2, 40))
            if last < timeline.now:
                when = last
                timeline.at(
                    when,
                    lambda when=when: _deliver(
                        timeline, checkout.failure(rng, rng.choice(variants), when)
                    ),
                )
    old = timeline.now - t0 > timedelta(days=timeline.policy.recovery_window_days)
    emailed = reason not in MERCHANT_ONLY and bool(order.buyer.email)
    roll = rng.random()
    if reason == FailureReason.SUSPECTED_FRAUD:
        if old or roll < 0.5:
            _plan_lost(
                timeline, order, last + timedelta(hours=rng.randint(2, 30)), by_merchant=True
            )
    elif (old and (roll < 0.45 or checkout.provider in timeline.unrecovered)) or (
        not old and roll < 0.3
    ):
        # Each provider's first sale past its window (fraud aside) was paid in the end, so
        # that every provider shows a recovery however few sales the dice give it.
        if old:
            timeline.unrecovered.discard(checkout.provider)
        clicked = emailed and rng.random() < 0.6
        # Some buyers start a new basket rather than pay the failed order (only a buyer with
        # an address, paying where the success names the buyer, can be recognised as the
        # same buyer).
        another = emailed and checkout.names_buyer_on_success and rng.random() < 0.25
        paying = orders.replacement(order) if another else order
        _plan_recovery(timeline, order, checkout, t0, last, clicked=clicked, paying=paying)
    elif old:
        by_merchant = rng.random() < 0.25
        when = last + timedelta(days=rng.randint(2, 5)) if by_merchant else None
        # The hourly expiry comes some minutes after the window ends. A sale whose window
        # ended just before the seed is expired a little early rather than left open, and
        # still dated in the past like the rest of the history.
        expiry = t0 + timedelta(days=timeline.policy.recovery_window_days, minutes=20)
        latest = timeline.now - timedelta(minutes=10)
        _plan_lost(timeline, order, when or min(expiry, latest), by_merchant=by_merchant)


def _reason_for(timeline: Timeline, t0: datetime) -> str:
    # Every reason shows up in the last week (open sales) and before it (settled ones);
    # the rest follow the usual mix.
    recent = timeline.now - t0 < timedelta(days=6)
    pool = timeline.to_cover[recent]
    if pool:
        return pool.pop(timeline.rng.randrange(len(pool)))
    return orders.pick_reason(timeline.rng)


def _plan_recovery(
    timeline: Timeline,
    order,
    checkout: checkouts.Checkout,
    t0,
    last,
    *,
    clicked: bool,
    paying: orders.Order,
) -> None:
    rng = timeline.rng
    if paying is not order:
        # A new order is a new checkout, at the same provider: a payment of its own.
        checkout = checkout.again(rng, paying)
    delays = timeline.policy.email_delay_minutes
    if clicked:
        step = rng.choices([1, 2, 3], weights=[6, 3, 2])[0]
        sent = timeline.sending_time(t0 + timedelta(minutes=delays[step - 1]))
        click = sent + timedelta(minutes=rng.randint(4, 300))
        paid = click + timedelta(minutes=rng.randint(3, 25))
        if paid >= timeline.now:
            return  # not yet: the sale stays open
        timeline.at(click, lambda: _click(timeline, order, step, click), settles=True)
        # Back through the link, the buyer pays in a new checkout (a new payment intent, a
        # new PayPal order…).
        again = checkout.again(rng)
        timeline.at(paid, lambda: _deliver(timeline, again.success(rng, paid)), settles=True)
    else:
        paid = last + timedelta(minutes=rng.randint(8, 60 * 30))
        if paid >= timeline.now:
            return
        timeline.at(paid, lambda: _deliver(timeline, checkout.success(rng, paid)), settles=True)


def _plan_lost(timeline: Timeline, order, when: datetime, *, by_merchant: bool) -> None:
    if when < timeline.now:
        actor = timeline.owner if by_merchant else None
        timeline.at(when, lambda: _give_up(timeline, order, actor, when), settles=True)


def _sale(timeline: Timeline, order) -> LostSale:
    return LostSale.objects.for_storefront(timeline.storefront).get(key=f"order:{order.reference}")


def _give_up(timeline: Timeline, order, actor, when: datetime) -> None:
    # The merchant's "mark lost", or the hourly expiry (no actor) once the window passed.
    sale = _sale(timeline, order)
    if merchant.mark_lost(lost_sale=sale, actor=actor):
        LostSale.objects.for_storefront(timeline.storefront).filter(pk=sale.pk).update(lost_at=when)


def _click(timeline: Timeline, order, step: int, when: datetime) -> None:
    sale = _sale(timeline, order)
    recovery.record_click(sale)
    LostSale.objects.for_storefront(timeline.storefront).filter(pk=sale.pk).update(
        recovery_clicked_at=when
    )
    message = (
        Message.objects.for_storefront(timeline.storefront)
        .filter(idempotency_key=f"lost-sale:{sale.pk}:recovery:{step}", status="sent")
        .first()
    )
    if message is not None:
        outbox.esp_event(timeline, message, "clicked", when)


def _deliver(timeline: Timeline, event: checkouts.Stored) -> None:
    """Store the event as its connection's path would have, and process it as the worker
    does once it has the event it trusts (ingest, with the worker's read hook if any)."""
    stored = timeline.store(
        event.provider,
        event.event_id,
        event.event_type,
        event.body,
        headers=event.headers,
    )
    ingest.process_inbound_event(event_id=stored.pk, read=event.read)
