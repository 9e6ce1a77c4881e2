"""Maison Lune's payment providers, and the events each leaves about an order's checkout, as its
connection's path stores them.

A French shop takes payments through several providers; the demo's sales in trouble are spread
over the five it has connected (MIX), each sale's events built by that provider's own samples
(payments.providers.<key>.samples) and stored as that connection's path would have stored them:

- Stripe and Lyra sign their webhooks, and the edge stores what it verified. Stripe's events are
  stored as Stripe sends them; Lyra's IPN is signed with the demo's secret and verified with the
  connection's own verify() before it is stored, form-encoded, as the edge stores it.
- PayPlug and Mollie only notify a payment's id: the worker fetches the payment from their API
  and stores what it fetched as the event proper (inbound.notified). The demo has no provider
  API to fetch from, so its history starts where the fetch ends: it stores the event the worker
  would have stored (id "<payment id>:<state>", body {"notified_at": ISO, "object": {"payment":
  the samples' API object}}), which the history then processes with the domain's processing,
  the worker's second half. Nothing here calls a network API.
- PayPal's events are verified by PayPal's API in the worker, and PayPal cannot verify events
  the demo made up: they are stored as the edge stores them (without PayPal's signature headers,
  which only PayPal can make) and processed by the domain's processing directly, with the read
  hook the worker passes after verifying: a failure's buyer read from the order, as the worker
  would have fetched it (samples.order_resource).

Each provider gives its own codes for a reason, from its samples' tables or, for Lyra, its code
table read backwards (one documented CB code per reason); a reason a provider has no code for
goes through Stripe for that sale (checkout_for). Nothing here touches the database.
"""

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from demo import events, orders, shop
from payments.providers.lyra import codes as lyra_codes
from payments.providers.lyra import samples as lyra
from payments.providers.lyra import webhooks as lyra_webhooks
from payments.providers.mollie import samples as mollie
from payments.providers.paypal import samples as paypal
from payments.providers.paypal import webhooks as paypal_webhooks
from payments.providers.payplug import samples as payplug
from payments.providers.stripe import samples as stripe
from payments.reasons import FailureReason
from payments.signals import PaymentSignal
from storefront_settings import connections

# The share of sales each provider takes (before the fallback to Stripe): a French shop's mix,
# cards through Stripe and PayPlug, PayPal's wallet, the bank's own gateway (Lyra), Mollie.
MIX = {"stripe": 40, "payplug": 20, "paypal": 15, "lyra": 15, "mollie": 10}


@dataclass(frozen=True)
class Stored:
    """One event as its connection's path stores it (inbound.services.store's arguments), and
    the `read` hook the worker hands to ingest.process_inbound_event, if any."""

    provider: str
    event_id: str
    event_type: str
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    read: Callable[[str], list[PaymentSignal]] | None = None


def _kept(provider: str, headers: dict[str, str]) -> dict[str, str]:
    """The headers the edge keeps with the body (the adapter's kept_headers)."""
    kept = connections.get(provider).adapter.kept_headers
    return {name: value for name, value in headers.items() if name in kept}


def _names(order: orders.Order) -> tuple[str, str]:
    first, _, last = order.buyer.name.partition(" ")
    return first, last


class Checkout:
    """One order's payment at one provider: the provider's ids for it, and the events about it.
    failure() and success() draw the ids of a new attempt where the provider makes one (a
    PayPlug or Mollie payment fails once, a Lyra transaction has one outcome)."""

    provider: str
    # Whether the provider's success names the buyer, so that it can recover another order's
    # sale (payments.services.ingest compares the buyers' addresses).
    names_buyer_on_success = True

    def __init__(self, rng: random.Random, order: orders.Order):
        self.order = order

    @classmethod
    def variants(cls, reason: str) -> list | None:
        """The provider's ways of reporting `reason` (one is drawn per attempt); None when it
        has no code for it."""
        raise NotImplementedError

    @classmethod
    def retried_at_once(cls, reason: str) -> bool:
        """Whether a buyer may try again at once after this reason (not after leaving)."""
        return reason != FailureReason.ABANDONED

    def again(self, rng: random.Random, order: orders.Order | None = None) -> "Checkout":
        """A new checkout at the same provider, for this order or another one."""
        return type(self)(rng, order or self.order)

    def failure(self, rng: random.Random, variant, at: datetime) -> Stored:
        raise NotImplementedError

    def success(self, rng: random.Random, at: datetime) -> Stored:
        raise NotImplementedError


# --- Stripe: signed webhooks --------------------------------------------------------------------


class StripeCheckout(Checkout):
    provider = "stripe"

    def __init__(self, rng: random.Random, order: orders.Order):
        super().__init__(rng, order)
        self.payment = stripe.new_payment(rng)

    @classmethod
    def variants(cls, reason: str) -> list | None:
        return stripe.FAILURES.get(reason)

    def failure(self, rng, variant: dict, at: datetime) -> Stored:
        return self._stored(events.stripe_failure(rng, self.order, self.payment, variant, at))

    def success(self, rng, at: datetime) -> Stored:
        return self._stored(events.stripe_success(rng, self.order, self.payment, at))

    def _stored(self, event: dict) -> Stored:
        body = events.encode(event).decode()
        return Stored("stripe", event["id"], event["type"], body, _kept("stripe", stripe.HEADERS))


# --- Lyra: signed IPNs, verified as the edge verifies them --------------------------------------

# One CB code per reason, Lyra's table (codes.AUTH_RESULTS) read backwards: the first code the
# table gives each reason. The buyer who leaves the payment page is reported by the status
# ABANDONED instead (abandoned_rest), as Lyra reports it; the table has no code for UNKNOWN.
LYRA_CODES: dict[str, str] = {}
for _code, _reason in lyra_codes.AUTH_RESULTS.items():
    if _reason not in (FailureReason.ABANDONED, FailureReason.UNKNOWN):
        LYRA_CODES.setdefault(_reason, _code)


class LyraCheckout(Checkout):
    """The REST integration (the embedded form): each attempt is a transaction of its own (a
    uuid), each state of it one IPN."""

    provider = "lyra"
    MODE = "PRODUCTION"  # the demo's secret is the production password

    def __init__(self, rng: random.Random, order: orders.Order):
        super().__init__(rng, order)
        first, last = _names(order)
        self.lyra_order = lyra.Order(
            order.reference,
            order.amount,
            "EUR",
            email=order.buyer.email,
            first_name=first,
            last_name=last,
            phone=order.buyer.phone,
        )

    @classmethod
    def variants(cls, reason: str) -> list | None:
        if reason == FailureReason.ABANDONED:
            return [None]
        return [LYRA_CODES[reason]] if reason in LYRA_CODES else None

    def failed_answer(self, rng, code: str | None, at: datetime) -> dict:
        """The payment object (kr-answer) of a refused transaction (code: a CB code), or of an
        abandoned one (None)."""
        uuid = lyra.new_uuid(rng)
        if code is None:
            return lyra.abandoned_rest(self.lyra_order, uuid=uuid, at=at, mode=self.MODE)
        return lyra.refused_rest(self.lyra_order, uuid=uuid, at=at, code=code, mode=self.MODE)

    def paid_answer(self, rng, at: datetime) -> dict:
        return lyra.paid_rest(self.lyra_order, uuid=lyra.new_uuid(rng), at=at, mode=self.MODE)

    @staticmethod
    def signed(answer: dict):
        """The IPN Lyra posts for this payment object, signed with the demo's REST password."""
        return lyra.rest_request(answer, shop.SECRETS["lyra"])

    def failure(self, rng, variant: str | None, at: datetime) -> Stored:
        return self._stored(self.failed_answer(rng, variant, at))

    def success(self, rng, at: datetime) -> Stored:
        return self._stored(self.paid_answer(rng, at))

    def _stored(self, answer: dict) -> Stored:
        request = self.signed(answer)
        # What the edge does with the IPN: verify it, and name it by its transaction and state.
        notification = lyra_webhooks.verify(request.body, [shop.SECRETS["lyra"]])
        return Stored(
            "lyra",
            lyra_webhooks.stored_event_id(lyra_webhooks.event_id(notification)),
            lyra_webhooks.event_type(notification),
            request.body.decode("utf-8"),
            _kept("lyra", request.headers),
        )


# --- PayPlug and Mollie: the payment as the worker fetched it -----------------------------------


def _fetched(provider: str, payment: dict, at: datetime) -> Stored:
    """The event inbound.notified stores after fetching `payment`, notified at `at`."""
    fetched = {"payment": payment}
    state = connections.get(provider).adapter.state(fetched)
    body = {"notified_at": at.isoformat(), "object": fetched}
    return Stored(provider, f"{payment['id']}:{state}", state[:100], json.dumps(body), {})


class PayPlugCheckout(Checkout):
    """A PayPlug payment fails once: each attempt, and the payment that settles the order, is a
    payment of its own, with the order's reference in its metadata."""

    provider = "payplug"

    def __init__(self, rng: random.Random, order: orders.Order):
        super().__init__(rng, order)
        first, last = _names(order)
        self.fields = {
            "order": order.reference,
            "amount": order.amount,
            "currency": "EUR",
            "email": order.buyer.email,
            "first_name": first,
            "last_name": last,
            "phone": order.buyer.phone.replace(" ", ""),
            "is_live": True,
        }

    @classmethod
    def variants(cls, reason: str) -> list | None:
        # The samples fail a payment with the code PayPlug gives for the reason (FAILURES).
        return [reason] if reason in payplug.FAILURES else None

    def failure(self, rng, variant: str, at: datetime) -> Stored:
        moment = int(at.timestamp())
        payment = payplug.failed_payment(
            payplug.payplug_id("pay_", rng), variant, created_at=moment - 90, **self.fields
        )
        return _fetched(self.provider, payment, at)

    def success(self, rng, at: datetime) -> Stored:
        payment = payplug.paid_payment(
            payplug.payplug_id("pay_", rng), paid_at=int(at.timestamp()), **self.fields
        )
        return _fetched(self.provider, payment, at)


class MollieCheckout(Checkout):
    """A Mollie payment has one outcome: each attempt is a payment of its own, with the order's
    reference in its metadata."""

    provider = "mollie"

    def __init__(self, rng: random.Random, order: orders.Order):
        super().__init__(rng, order)
        euros, cents = divmod(order.amount, 100)
        self.fields = {
            "amount": f"{euros}.{cents:02d}",
            "currency": "EUR",
            "order_id": order.reference,
            "email": order.buyer.email or None,
            "name": _names(order),
            "mode": "live",
        }

    @classmethod
    def variants(cls, reason: str) -> list | None:
        # The samples' payment for each reason Mollie can report (FAILURES): none for a card
        # limit or a temporary processing error.
        return [reason] if reason in mollie.FAILURES else None

    def failure(self, rng, variant: str, at: datetime) -> Stored:
        payment = mollie.failure(mollie.payment_id(rng), variant, at=at, **self.fields)
        return _fetched(self.provider, payment, at)

    def success(self, rng, at: datetime) -> Stored:
        payment = mollie.paid(mollie.payment_id(rng), at=at, **self.fields)
        return _fetched(self.provider, payment, at)


# --- PayPal: stored at the edge; PayPal's verification is what the demo cannot have ---------------


class PayPalCheckout(Checkout):
    """A PayPal order, captured: a declined capture and the one that goes through are captures
    of the same order; back through a recovery link, the buyer makes a new order."""

    provider = "paypal"
    # A capture names no buyer, and the worker reads the order's buyer for failures only.
    names_buyer_on_success = False

    def __init__(self, rng: random.Random, order: orders.Order):
        super().__init__(rng, order)
        first, last = _names(order)
        self.paypal_order = paypal.Order(
            order.reference, order.amount, "EUR", order.buyer.email, first, last
        )
        self.payment = paypal.new_payment(rng)

    @classmethod
    def variants(cls, reason: str) -> list | None:
        return paypal.FAILURES.get(reason)  # none for abandoned: PayPal reports no such thing

    @classmethod
    def retried_at_once(cls, reason: str) -> bool:
        # A reversal or a denial for the shop's account is the shop's doing, not the buyer's.
        return super().retried_at_once(reason) and reason != FailureReason.MERCHANT_CONFIGURATION

    def failure(self, rng, variant: dict, at: datetime) -> Stored:
        moment = int(at.timestamp())
        event = paypal.failure(rng, self.paypal_order, self.payment, variant, at=moment)
        # The worker reads a failure's buyer from the order (webhooks.Adapter._from_order).
        order = paypal_webhooks.FromOrder.of(paypal.order_resource(self.paypal_order, self.payment))
        return self._stored(event, read=_reader(order))

    def success(self, rng, at: datetime) -> Stored:
        return self._stored(
            paypal.success(rng, self.paypal_order, self.payment, at=int(at.timestamp()))
        )

    def _stored(self, event: dict, read=None) -> Stored:
        body = events.encode(event).decode()
        headers = _kept("paypal", paypal.HEADERS)
        return Stored("paypal", event["id"], event["event_type"], body, headers, read=read)


def _reader(order: paypal_webhooks.FromOrder) -> Callable[[str], list[PaymentSignal]]:
    adapter = connections.get("paypal").adapter

    def read(body: str) -> list[PaymentSignal]:
        return [order.complete(signal) for signal in adapter.signals(body)]

    return read


# --- Which provider ----------------------------------------------------------------------------

CHECKOUTS: dict[str, type[Checkout]] = {
    checkout.provider: checkout
    for checkout in (StripeCheckout, PayPlugCheckout, PayPalCheckout, LyraCheckout, MollieCheckout)
}


def checkout_for(rng: random.Random, reason: str) -> type[Checkout]:
    """The provider a sale failing for `reason` goes through: drawn from MIX, and Stripe when the
    provider drawn has no code for the reason."""
    drawn = CHECKOUTS[rng.choices(list(MIX), weights=list(MIX.values()))[0]]
    return drawn if drawn.variants(reason) is not None else StripeCheckout
