"""A trickle of live, signed webhooks for the running demo (`manage.py demo_trickle`).

Every few seconds one event, built as the provider builds it and signed with the demo
storefront's secret as the provider signs it, is posted over real HTTP to the running server:
a new failed payment, another failed attempt on an open sale, a payment that recovers one
(sometimes after the buyer opened the recovery link), or a carrier's update that moves a parcel
one step on. The server stores it, the worker processes it, and the dashboard changes.

Payments trickle through the providers that sign their webhooks, Stripe and Lyra (TRICKLED),
whose events the running server verifies and processes on its own. PayPlug and Mollie only
notify a payment's id, which the worker would fetch from their real APIs, which know none of
the demo's payments; PayPal's events are trusted only once PayPal's API verifies them, which it
would not do for made-up ones. Those three would need a stand-in of their API, so they appear in
the seeded history only (demo.checkouts).

build_event() picks and builds one event from the database's current state, tick() sends it,
run() loops until told to stop. Only run() knows about time and signals, so the other two are
tested against the real endpoints with Django's test client.
"""

import logging
import random
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from demo import checkouts, events, numbers, orders, shop
from inbound.edge import SignedRequest
from payments import links
from payments.models import LostSale, PaymentReference
from payments.providers.lyra import webhooks as lyra_webhooks
from payments.providers.stripe import samples as stripe
from payments.reasons import MERCHANT_ONLY
from storefront_settings.models import Storefront
from tracking.models import Shipment
from tracking.providers import Step
from tracking.services import shipments
from tracking.statuses import FINAL
from tracking.statuses import ShipmentStatus as S

logger = logging.getLogger(__name__)

# Where a parcel may go next, with how likely each step is.
NEXT_STEPS: dict[str, list[tuple[str, int]]] = {
    S.PENDING: [(S.INFO_RECEIVED, 1)],
    S.INFO_RECEIVED: [(S.IN_TRANSIT, 1)],
    S.IN_TRANSIT: [
        (S.IN_TRANSIT, 3),
        (S.OUT_FOR_DELIVERY, 5),
        (S.AVAILABLE_FOR_PICKUP, 1),
        (S.EXCEPTION, 1),
    ],
    S.OUT_FOR_DELIVERY: [(S.DELIVERED, 8), (S.FAILED_ATTEMPT, 2)],
    S.FAILED_ATTEMPT: [(S.OUT_FOR_DELIVERY, 2), (S.AVAILABLE_FOR_PICKUP, 2)],
    S.AVAILABLE_FOR_PICKUP: [(S.DELIVERED, 1)],
    S.EXCEPTION: [(S.IN_TRANSIT, 2), (S.RETURNED, 1)],
}
# Below this many parcels on the move, the shop ships a new one now and then.
MOVING_POOL = 6
# The payment providers the trickle posts for (signed webhooks), and Lyra's share of new sales.
TRICKLED = ("stripe", "lyra")
LYRA_SHARE = 0.25

# One request: (method, path, body, headers) → HTTP status.
Send = Callable[[str, str, bytes | None, dict[str, str]], int]


@dataclass(frozen=True)
class DemoEvent:
    provider: str
    event_type: str
    label: str  # the order reference or tracking number, for the log line
    path: str
    body: bytes
    headers: dict[str, str]
    # A buyer's visit to the recovery link before the payment, when there is one.
    click_path: str = ""


def demo_storefront() -> Storefront | None:
    return Storefront.objects.filter(slug=shop.DEMO_SLUG).first()


def build_event(storefront: Storefront, rng: random.Random, now: datetime) -> DemoEvent:
    """One realistic event about the demo storefront's current state."""
    roll = rng.random()
    built = None
    if roll < 0.4:
        built = _parcel_update(storefront, rng, now)
    elif roll < 0.55:
        built = _another_attempt(storefront, rng, now)
    elif roll < 0.7:
        built = _recovery(storefront, rng, now)
    return built or _new_failure(storefront, rng, now)


def tick(storefront: Storefront, rng: random.Random, send: Send) -> str:
    """Build one event, send it (after the buyer's click, if any); the log line."""
    event = build_event(storefront, rng, timezone.now())
    clicked = ""
    if event.click_path:
        clicked = f" (recovery link → {send('GET', event.click_path, None, {})})"
    status = send("POST", event.path, event.body, event.headers)
    return f"{event.provider} {event.event_type} {event.label}{clicked} → {status}"


# --- Payments -----------------------------------------------------------------------------------


def _stripe(storefront, event: dict, label: str, click_path: str = "") -> DemoEvent:
    signed = stripe.signed(event, shop.SECRETS["stripe"], now=event["created"])
    return DemoEvent(
        provider="stripe",
        event_type=event["type"],
        label=label,
        path=f"/webhooks/stripe/{storefront.public_id}/",
        body=signed.body,
        headers=signed.headers,
        click_path=click_path,
    )


def _lyra(storefront, request: SignedRequest, label: str, click_path: str = "") -> DemoEvent:
    return DemoEvent(
        provider="lyra",
        event_type=lyra_webhooks.event_type(lyra_webhooks.read(request.body.decode())),
        label=label,
        path=f"/webhooks/lyra/{storefront.public_id}/",
        body=request.body,
        headers=request.headers,
        click_path=click_path,
    )


# The highest order number this process has used: the worker may not have processed the last
# event yet when the next one is built, and the database would not know that number.
_issued = {"number": 0}


def _next_reference(storefront: Storefront) -> str:
    known = [
        *LostSale.objects.for_storefront(storefront).values_list("order_reference", flat=True),
        *Shipment.objects.for_storefront(storefront).values_list("order_reference", flat=True),
    ]
    numbers = [int(ref[3:]) for ref in known if ref.startswith("ML-") and ref[3:].isdigit()]
    _issued["number"] = max([*numbers, _issued["number"], 20000]) + 1
    return orders.order_reference(_issued["number"])


def _new_failure(storefront, rng, now) -> DemoEvent:
    reason = orders.pick_reason(rng)
    order = orders.make_order(rng, _next_reference(storefront), reachable=rng.random() > 0.05)
    lyra = checkouts.LyraCheckout.variants(reason)
    if lyra and rng.random() < LYRA_SHARE:
        checkout = checkouts.LyraCheckout(rng, order)
        answer = checkout.failed_answer(rng, rng.choice(lyra), now)
        return _lyra(storefront, checkout.signed(answer), order.reference)
    payment = stripe.new_payment(rng)
    codes = rng.choice(stripe.FAILURES[reason])
    event = events.stripe_failure(rng, order, payment, codes, now)
    return _stripe(storefront, event, order.reference)


def _pick(rng: random.Random, rows):
    """One row drawn by the trickle's own generator (not the database's random order), so a
    seeded trickle makes the same choices every time."""
    pks = list(rows.order_by("pk").values_list("pk", flat=True))
    return rows.get(pk=rng.choice(pks)) if pks else None


def _open_sale(storefront, rng: random.Random, *, reachable: bool = False) -> LostSale | None:
    sales = LostSale.objects.for_storefront(storefront).filter(
        status=LostSale.Status.OPEN, provider__in=TRICKLED
    )
    if reachable:
        sales = sales.exclude(buyer_email="").exclude(reason__in=sorted(MERCHANT_ONLY))
    return _pick(rng, sales)


def _order_of(sale: LostSale) -> orders.Order:
    buyer = orders.Buyer(sale.buyer_name, sale.buyer_email, sale.buyer_phone)
    return orders.Order(sale.order_reference, buyer, sale.amount or 0, ())


def _payment_intent(sale: LostSale) -> str:
    reference = (
        PaymentReference.objects.for_storefront(sale.storefront)
        .filter(payment__lost_sale=sale, reference__startswith="pi_")
        .values_list("reference", flat=True)
        .first()
    )
    return reference or ""


def _another_attempt(storefront, rng, now) -> DemoEvent | None:
    """The buyer of an open sale tries again, and fails again."""
    sale = _open_sale(storefront, rng)
    if sale is not None and sale.provider == "lyra":
        # A new transaction, refused again (a buyer who left does not try again at once).
        codes = [c for c in checkouts.LyraCheckout.variants(sale.reason) or () if c]
        if not codes:
            return None
        checkout = checkouts.LyraCheckout(rng, _order_of(sale))
        answer = checkout.failed_answer(rng, rng.choice(codes), now)
        return _lyra(storefront, checkout.signed(answer), sale.order_reference)
    intent = sale and _payment_intent(sale)
    if not intent:
        return None
    codes = [c for c in stripe.FAILURES[sale.reason] if not (c.get("expire") or c.get("cancel"))]
    if not codes:
        return None
    payment = stripe.Payment(intent)
    event = events.stripe_failure(rng, _order_of(sale), payment, rng.choice(codes), now)
    return _stripe(storefront, event, sale.order_reference)


def _recovery(storefront, rng, now) -> DemoEvent | None:
    """An open sale is paid in the end, half the time right after the buyer opened the link in
    a recovery email."""
    sale = _open_sale(storefront, rng, reachable=True)
    if sale is None:
        return None
    click = ""
    if rng.random() < 0.5:
        click = urlsplit(links.retry_url(sale, step=1)).path
    if click:
        # The visit comes first (tick() makes it before posting), and Stripe's `created` and
        # Lyra's serverDate are in whole seconds: dated the same second, the payment could read
        # as before the click.
        now += timedelta(seconds=2)
    if sale.provider == "lyra":
        # A new transaction for the order, authorised.
        checkout = checkouts.LyraCheckout(rng, _order_of(sale))
        request = checkout.signed(checkout.paid_answer(rng, now))
        return _lyra(storefront, request, sale.order_reference, click_path=click)
    # Back through the link, a new checkout (a new payment intent); else the same one retried.
    intent = (not click and _payment_intent(sale)) or stripe.stripe_id(rng, "pi_3")
    event = events.stripe_success(rng, _order_of(sale), stripe.Payment(intent), now)
    return _stripe(storefront, event, sale.order_reference, click_path=click)


# --- Parcels ------------------------------------------------------------------------------------


def _parcel_update(storefront, rng, now) -> DemoEvent | None:
    """A carrier's update that moves a parcel on one step (the stalled ones stay stalled, so
    the dashboard keeps something to show)."""
    moving = Shipment.objects.for_storefront(storefront).exclude(status__in=sorted(FINAL))
    moving = moving.filter(stalled_since__isnull=True)
    if moving.count() < MOVING_POOL and rng.random() < 0.5:
        shipment = _ship_new_order(storefront, rng, now)
    else:
        shipment = _pick(rng, moving)
    if shipment is None:
        return None
    source = events.source_for(shipment.carrier)
    words = events.SAMPLES[source].WORDS
    choices = [(s, w) for s, w in NEXT_STEPS[shipment.status] if s in words]
    if not choices:
        return None
    status = rng.choices([s for s, _ in choices], weights=[w for _, w in choices])[0]
    steps = [
        Step(point.occurred_at.astimezone(UTC), point.status, point.description, point.location)
        for point in shipment.checkpoints.order_by("occurred_at")
        if point.status in words
    ]
    steps.append(events.make_step(rng, status, now, first=not steps))
    source, event = events.tracking_event(
        rng,
        carrier=shipment.carrier,
        number=shipment.tracking_number,
        order_reference=shipment.order_reference,
        steps=steps,
        estimated=shipment.promised_delivery_date,
    )
    signed = events.SAMPLES[source].signed(event, shop.SECRETS[source])
    return DemoEvent(
        provider=source,
        event_type=events.identity(source, event)[1],
        label=f"{shipment.tracking_number} {status}",
        path=f"/webhooks/{source}/{storefront.public_id}/",
        body=signed.body,
        headers=signed.headers,
    )


def _ship_new_order(storefront, rng, now) -> Shipment:
    """The shop ships an order (as its API call would record it): its updates come next."""
    carrier = numbers.pick_carrier(rng)
    order = orders.make_order(rng, _next_reference(storefront))
    return shipments.create_shipment(
        storefront,
        shipments.NewShipment(
            order_reference=order.reference,
            buyer_email=order.buyer.email,
            buyer_name=order.buyer.name,
            tracking_number=numbers.tracking_number(rng, carrier),
            carrier=carrier,
            shipped_at=now,
            promised_delivery_date=shop.business_days_after(now.date(), 2),
            items=tuple({"name": name, "quantity": 1, "price": p} for name, p in order.items),
        ),
    )


# --- Over HTTP ----------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # The recovery link redirects to the shop's checkout: the visit is what counts, not where
    # it leads (an invented shop on a reserved domain).
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def http_sender(base_url: str, timeout: float = 5) -> Send:
    base = base_url.rstrip("/")

    def send(method: str, path: str, body: bytes | None, headers: dict[str, str]) -> int:
        request = urllib.request.Request(  # noqa: S310 - an http(s) URL we are given
            base + path,
            data=body,
            method=method,
            headers={"Content-Type": "application/json", **headers} if body else headers,
        )
        try:
            with _opener.open(request, timeout=timeout) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code  # an answer all the same (400, 3xx not followed…)

    return send


def wait_for_server(base_url: str, stop: threading.Event, log, *, every: float = 1) -> bool:
    """Wait until /healthz answers 200 (database and broker up); False when told to stop."""
    send = http_sender(base_url, timeout=2)
    waited = 0.0
    while not stop.is_set():
        try:
            if send("GET", "/healthz", None, {}) == 200:
                return True
        except OSError:
            pass
        if waited % 30 == 0:
            log(f"waiting for {base_url}/healthz …")
        waited += every
        stop.wait(every)
    return False


def run(*, base_url: str, every: float, stop: threading.Event, log, rng=None) -> None:
    """Post one event every `every` seconds until `stop` is set. Never raises for a server that
    is away or a database that hiccups: it says so and tries again on the next round."""
    rng = rng or random.Random()  # noqa: S311 - made-up data, not a secret
    if not wait_for_server(base_url, stop, log):
        return
    log(f"posting a signed webhook to {base_url} every {every:g} s (Ctrl-C stops)")
    send = http_sender(base_url)
    while not stop.is_set():
        try:
            close_old_connections()
            storefront = demo_storefront()
            if storefront is None:
                log("no demo storefront yet (run manage.py seed_demo); waiting")
            else:
                log(tick(storefront, rng, send))
        except (OSError, urllib.error.URLError) as error:
            # The server restarts (or is gone for a while): next round.
            log(f"server unreachable ({getattr(error, 'reason', error)}); retrying")
        except DatabaseError as error:
            log(f"database unavailable ({type(error).__name__}); retrying")
            connection.close()
        except Exception:  # noqa: BLE001 - the demo goes on; the trace is for whoever reads it
            logger.exception("demo event failed; going on")
        stop.wait(every)
