"""Stripe events as Stripe sends them, and signed as Stripe signs them: the one place that makes
them, for the "send test event" button, the demo (demo.events), the benchmarks
(bench/webhook_ingest.py) and the tests.

The objects follow Stripe's documented shapes (the event, https://docs.stripe.com/api/events/object;
the payment intent, https://docs.stripe.com/api/payment_intents/object; the charge,
https://docs.stripe.com/api/charges/object; the Checkout session,
https://docs.stripe.com/api/checkout/sessions/object), with the fields Stripe fills in a live
account, so that what they exercise is what production receives. Ids are drawn from the caller's
random generator, so a seeded demo is the same every time.
"""

import json
import random
import secrets
import string
from dataclasses import dataclass, field

from inbound.edge import SignedRequest
from payments.providers.stripe.webhooks import sign
from payments.reasons import FailureReason
from storefront_settings.models import Storefront

API_VERSION = "2024-06-20"
HEADERS = {
    "Content-Type": "application/json; charset=utf-8",
    "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
}


def signed(event: dict, secret: str, *, now: int, indent: int | None = 2) -> SignedRequest:
    """The request Stripe makes for `event`: pretty-printed JSON (Stripe indents by two) and the
    headers Stripe sends, the signature made with `secret` at `now` (Unix seconds)."""
    body = json.dumps(event, indent=indent, ensure_ascii=False).encode("utf-8")
    return SignedRequest(body, {**HEADERS, **sign(body, secret, timestamp=now)})


def test_event(storefront: Storefront, secret: str, now: int) -> SignedRequest:
    """The connections page's test event: a type of our own, `aftersale.test_event`. The edge
    verifies and stores every signed Stripe event (Stripe adds event types at will); the worker
    finds no signal in it (webhooks.parse reads payment types only) and marks the row ignored,
    so it changes no payment and emails nobody."""
    event = {
        "id": f"evt_aftersale_test_{secrets.token_hex(8)}",
        "object": "event",
        "type": "aftersale.test_event",
        "created": now,
        "livemode": False,
        "data": {"object": {"object": "aftersale_test", "id": "aftersale_test"}},
    }
    return signed(event, secret, now=now, indent=None)


# --- Orders, buyers and ids ---------------------------------------------------------------------


@dataclass(frozen=True)
class Buyer:
    email: str = ""
    name: str = ""
    phone: str = ""
    city: str | None = None
    postal_code: str | None = None
    country: str = "FR"
    line1: str | None = None


@dataclass(frozen=True)
class Order:
    reference: str
    amount: int  # minor units, shipping included
    buyer: Buyer
    currency: str = "eur"
    shipping: int = 0  # minor units, for a Checkout session's subtotal


@dataclass
class Payment:
    """The Stripe ids of one order's payment, as its events name them."""

    payment_intent: str
    charges: list[str] = field(default_factory=list)
    checkout_session: str = ""


def stripe_id(rng: random.Random, prefix: str) -> str:
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(rng.choice(alphabet) for _ in range(24))


def new_payment(rng: random.Random) -> Payment:
    return Payment(stripe_id(rng, "pi_3"))


# --- Why a payment fails: Stripe's own codes for each canonical reason --------------------------

# Each reason with the raw codes Stripe sends for it (https://docs.stripe.com/declines/codes),
# as a payment intent's last_payment_error carries them. "cancel" is a cancelled payment intent
# (its cancellation_reason), "expire" an expired checkout session, "radar" a charge Radar
# blocked; "unknown" is a decline code our tables do not know (Stripe adds some every year).
FAILURES: dict[str, list[dict]] = {
    FailureReason.AUTHENTICATION_FAILED: [
        {"code": "payment_intent_authentication_failure"},
        {"code": "card_declined", "decline_code": "authentication_required"},
    ],
    FailureReason.CARD_DETAILS_INCORRECT: [
        {"code": "incorrect_cvc", "decline_code": "incorrect_cvc"},
        {"code": "incorrect_number"},
        {"code": "card_declined", "decline_code": "incorrect_zip"},
    ],
    FailureReason.CARD_EXPIRED: [{"code": "expired_card", "decline_code": "expired_card"}],
    FailureReason.INSUFFICIENT_FUNDS: [
        {"code": "card_declined", "decline_code": "insufficient_funds", "advice": "51"},
    ],
    FailureReason.LIMIT_EXCEEDED: [
        {"code": "card_declined", "decline_code": "card_velocity_exceeded", "advice": "61"},
        {"code": "card_declined", "decline_code": "withdrawal_count_limit_exceeded"},
    ],
    FailureReason.ONLINE_PAYMENT_NOT_ENABLED: [
        {"code": "card_declined", "decline_code": "transaction_not_allowed", "advice": "57"},
        {"code": "card_declined", "decline_code": "card_not_supported"},
    ],
    FailureReason.BANK_DECLINED: [
        {"code": "card_declined", "decline_code": "do_not_honor", "advice": "05"},
        {"code": "card_declined", "decline_code": "generic_decline"},
        {"code": "card_declined"},
    ],
    FailureReason.PROCESSING_ERROR: [
        {"code": "processing_error", "decline_code": "processing_error"},
        {"code": "card_declined", "decline_code": "issuer_not_available", "advice": "91"},
    ],
    FailureReason.ABANDONED: [{"expire": True}, {"cancel": "abandoned"}],
    FailureReason.SUSPECTED_FRAUD: [
        {"radar": True},
        {"code": "card_declined", "decline_code": "stolen_card", "advice": "43"},
        {"code": "card_declined", "decline_code": "fraudulent"},
    ],
    FailureReason.MERCHANT_CONFIGURATION: [
        {"code": "payment_method_unactivated"},
        {"code": "card_declined", "decline_code": "testmode_decline"},
    ],
    FailureReason.UNKNOWN: [{"code": "card_declined", "decline_code": "issuer_policy_refusal"}],
}

DECLINE_MESSAGES = {
    "insufficient_funds": "Your card has insufficient funds.",
    "expired_card": "Your card has expired.",
    "incorrect_cvc": "Your card's security code is incorrect.",
    "incorrect_number": "Your card number is incorrect.",
    "processing_error": "An error occurred while processing your card. Try again in a little bit.",
}


# --- Events -------------------------------------------------------------------------------------


def event(
    rng: random.Random, event_type: str, obj: dict, *, created: int, live: bool = True
) -> dict:
    return {
        "id": stripe_id(rng, "evt_3"),
        "object": "event",
        "api_version": API_VERSION,
        "created": created,
        "data": {"object": obj},
        "livemode": live,
        "pending_webhooks": 1,
        "request": {"id": stripe_id(rng, "req_"), "idempotency_key": None},
        "type": event_type,
    }


def failure(rng: random.Random, order: Order, payment: Payment, codes: dict, *, at: int) -> dict:
    """The event that reports a failed or abandoned payment with these codes (a FAILURES
    entry), at `at` (Unix seconds)."""
    if codes.get("expire"):
        payment.checkout_session = payment.checkout_session or stripe_id(rng, "cs_live_a1")
        return event(
            rng, "checkout.session.expired", _expired_session(order, payment, at), created=at
        )
    if codes.get("cancel"):
        obj = payment_intent(rng, order, payment, "canceled", at=at)
        obj["cancellation_reason"] = codes["cancel"]
        obj["canceled_at"] = at
        return event(rng, "payment_intent.canceled", obj, created=at)

    payment.charges.append(stripe_id(rng, "ch_3"))
    if codes.get("radar"):
        return event(rng, "charge.failed", _blocked_charge(order, payment), created=at)
    obj = payment_intent(rng, order, payment, "requires_payment_method", at=at)
    obj["last_payment_error"] = _card_error(rng, order, payment, codes, at=at)
    return event(rng, "payment_intent.payment_failed", obj, created=at)


def success(rng: random.Random, order: Order, payment: Payment, *, at: int) -> dict:
    """payment_intent.succeeded for the order: the buyer paid in the end."""
    payment.charges.append(stripe_id(rng, "ch_3"))
    obj = payment_intent(rng, order, payment, "succeeded", at=at)
    return event(rng, "payment_intent.succeeded", obj, created=at)


# --- Objects ------------------------------------------------------------------------------------


def _address(buyer: Buyer) -> dict:
    return {
        "city": buyer.city,
        "country": buyer.country,
        "line1": buyer.line1,
        "line2": None,
        "postal_code": buyer.postal_code,
        "state": None,
    }


def _billing(buyer: Buyer) -> dict:
    return {
        "address": _address(buyer),
        "email": buyer.email or None,
        "name": buyer.name or None,
        "phone": buyer.phone or None,
    }


def payment_intent(
    rng: random.Random, order: Order, payment: Payment, status: str, *, at: int
) -> dict:
    """The payment intent as Stripe renders it in an event, in `status`."""
    buyer = order.buyer
    return {
        "id": payment.payment_intent,
        "object": "payment_intent",
        "amount": order.amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": order.amount if status == "succeeded" else 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": {"allow_redirects": "always", "enabled": True},
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic_async",
        "client_secret": f"{payment.payment_intent}_secret_{stripe_id(rng, '')}",
        "confirmation_method": "automatic",
        "created": at - 40,
        "currency": order.currency,
        "customer": None,
        "description": f"Commande {order.reference}",
        "invoice": None,
        "last_payment_error": None,
        "latest_charge": payment.charges[-1] if payment.charges else None,
        "livemode": True,
        "metadata": {"order_id": order.reference},
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {
                "installments": None,
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": ["card"],
        "processing": None,
        "receipt_email": buyer.email or None,
        "review": None,
        "setup_future_usage": None,
        "shipping": {
            "address": _address(buyer),
            "carrier": None,
            "name": buyer.name or None,
            "phone": buyer.phone or None,
            "tracking_number": None,
        },
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": status,
        "transfer_data": None,
        "transfer_group": None,
    }


def _card_error(
    rng: random.Random, order: Order, payment: Payment, codes: dict, *, at: int
) -> dict:
    decline_code = codes.get("decline_code")
    brand = rng.choice(["visa", "mastercard", "cartes_bancaires"])
    return {
        "charge": payment.charges[-1],
        "code": codes.get("code"),
        "decline_code": decline_code,
        "doc_url": "https://stripe.com/docs/error-codes/"
        + (codes.get("code") or "").replace("_", "-"),
        "message": DECLINE_MESSAGES.get(decline_code or "", "Your card was declined."),
        "network_decline_code": codes.get("advice"),
        "payment_method": {
            "id": stripe_id(rng, "pm_1"),
            "object": "payment_method",
            "allow_redisplay": "unspecified",
            "billing_details": _billing(order.buyer),
            "card": {
                "brand": brand,
                "checks": {
                    "address_line1_check": None,
                    "address_postal_code_check": None,
                    "cvc_check": "pass",
                },
                "country": order.buyer.country,
                "display_brand": brand,
                "exp_month": rng.randint(1, 12),
                "exp_year": rng.randint(2027, 2031),
                "fingerprint": stripe_id(rng, "")[:16],
                "funding": rng.choice(["credit", "debit"]),
                "last4": f"{rng.randrange(10000):04d}",
                "networks": {"available": [brand], "preferred": None},
                "three_d_secure_usage": {"supported": True},
                "wallet": None,
            },
            "created": at - 41,
            "customer": None,
            "livemode": True,
            "metadata": {},
            "type": "card",
        },
        "type": "card_error",
    }


def _blocked_charge(order: Order, payment: Payment) -> dict:
    return {
        "id": payment.charges[-1],
        "object": "charge",
        "amount": order.amount,
        "billing_details": _billing(order.buyer),
        "currency": order.currency,
        "failure_code": "card_declined",
        "failure_message": "Your card was declined.",
        "livemode": True,
        "metadata": {"order_id": order.reference},
        "outcome": {
            "network_status": "not_sent_to_network",
            "reason": "highest_risk_level",
            "risk_level": "highest",
            "seller_message": "Stripe blocked this payment as too risky.",
            "type": "blocked",
        },
        "paid": False,
        "payment_intent": payment.payment_intent,
        "receipt_email": order.buyer.email or None,
        "status": "failed",
    }


def _expired_session(order: Order, payment: Payment, at: int) -> dict:
    return {
        "id": payment.checkout_session,
        "object": "checkout.session",
        "amount_subtotal": order.amount - order.shipping,
        "amount_total": order.amount,
        "client_reference_id": order.reference,
        "currency": order.currency,
        "customer_details": {
            "email": order.buyer.email or None,
            "name": order.buyer.name or None,
            "phone": order.buyer.phone or None,
        },
        "expires_at": at,
        "livemode": True,
        "metadata": {"order_id": order.reference},
        "mode": "payment",
        "payment_intent": None,
        "payment_status": "unpaid",
        "status": "expired",
    }
