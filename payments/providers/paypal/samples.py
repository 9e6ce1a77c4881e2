"""PayPal's webhook events and API answers as PayPal makes them: the one place that builds them,
for the "send test event" button, the tests, and the benchmarks' stand-in of PayPal's API.

The objects follow PayPal's documented shapes: the event
(paypal/paypal-rest-api-specifications:openapi/notifications_webhooks_v1.json `event`), the
capture (openapi/payments_payment_v2.json `capture`, with `supplementary_data.related_ids`),
the order (openapi/checkout_orders_v2.json `order`), the reversal of an uncaptured order
(https://developer.paypal.com/payment-methods/uncaptured-payments.md), the OAuth token
(https://developer.paypal.com/api/rest/authentication/) and the postback's answer. Ids are
drawn from the caller's random generator, so a seeded run is the same every time.

PayPal signs an event with its private key; nobody else can. delivered() puts a stand-in
signature in PAYPAL-TRANSMISSION-SIG instead (stand_in_signature(): an HMAC keyed with the
webhook id over what PayPal signs), which a stand-in of PayPal's API (tests/paypal_stand_in.py)
checks the way PayPal checks its own: it fails for another webhook, another body or another
transmission.
"""

import base64
import hashlib
import hmac
import json
import random
import secrets
import string
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from babel.numbers import get_currency_precision

from inbound.edge import SignedRequest
from payments.providers.paypal import webhooks
from payments.reasons import FailureReason
from storefront_settings.models import Storefront

LIVE_HOST = "https://api.paypal.com"
SANDBOX_HOST = "https://api.sandbox.paypal.com"
CERT_PATH = "/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77"
HEADERS = {"Content-Type": "application/json", "User-Agent": "PayPal/AUHD-214.0-54377828"}
# The event type of the connections page's test event: ours, so no PayPal event is mistaken
# for it, and one the edge does not read.
TEST_EVENT_TYPE = "AFTERSALE.TEST-EVENT"


def host(sandbox: bool) -> str:
    return SANDBOX_HOST if sandbox else LIVE_HOST


def rfc3339(at: int) -> str:
    """PayPal's times: UTC, with milliseconds ("2020-01-25T21:21:49.000Z")."""
    return datetime.fromtimestamp(at, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


# --- Deliveries ---------------------------------------------------------------------------------


def stand_in_signature(body: bytes, webhook_id: str, transmission_id: str, time: str) -> str:
    """What stands for PayPal's SHA256withRSA signature: the same signed text
    (transmission id|time|webhook id|CRC32 of the body, per paypal/PayPal-Python-SDK:
    paypalrestsdk/notifications.py `_get_expected_sig`), under an HMAC keyed with the webhook
    id."""
    signed = f"{transmission_id}|{time}|{webhook_id}|{zlib.crc32(body)}"
    digest = hmac.new(webhook_id.encode(), signed.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def delivered(
    event: dict, webhook_id: str, *, now: int, sandbox: bool = False, rng=None
) -> SignedRequest:
    """The request PayPal makes to a webhook for `event`: compact JSON, and the headers PayPal
    sends with it, signed with the stand-in signature for `webhook_id` at `now` (Unix
    seconds)."""
    rng = rng or random.Random()  # noqa: S311 - ids, not secrets
    body = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
    transmission_id = str(uuid.UUID(int=rng.getrandbits(128), version=1))
    time = datetime.fromtimestamp(now, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return SignedRequest(
        body,
        {
            **HEADERS,
            "PAYPAL-AUTH-ALGO": "SHA256withRSA",
            "PAYPAL-AUTH-VERSION": "v2",
            "PAYPAL-CERT-URL": host(sandbox) + CERT_PATH,
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-TIME": time,
            "PAYPAL-TRANSMISSION-SIG": stand_in_signature(body, webhook_id, transmission_id, time),
        },
    )


def test_event(storefront: Storefront, secret: str, now: int) -> SignedRequest:
    """The connections page's test event: an event of our own type, `AFTERSALE.TEST-EVENT`,
    with PayPal's headers. Only PayPal can sign an event, so this one proves the URL answers and
    the storefront has a PayPal secret, nothing more: the edge answers "received and ignored"
    (it reads payment events only) and stores nothing. The whole path is tested with a payment
    in PayPal's sandbox (the connection's Guide.test says how)."""
    event = {
        "id": f"WH-AFTERSALE-TEST-{secrets.token_hex(8).upper()}",
        "event_version": "1.0",
        "create_time": rfc3339(now),
        "resource_type": "aftersale-test",
        "event_type": TEST_EVENT_TYPE,
        "summary": "Aftersale test event",
        "resource": {"id": "aftersale-test"},
        "links": [],
    }
    return delivered(event, "AFTERSALETEST", now=now, rng=random.Random(now))  # noqa: S311


# --- Orders, buyers and ids ---------------------------------------------------------------------


@dataclass(frozen=True)
class Order:
    """The shop's order, as it hands it to PayPal."""

    reference: str  # the shop's order reference: the purchase unit's invoice_id
    amount: int  # minor units
    currency: str = "EUR"
    email: str = ""
    given_name: str = ""
    surname: str = ""


@dataclass
class Payment:
    """PayPal's ids for one order's payment: the order, and a capture per attempt."""

    order_id: str
    captures: list[str] = field(default_factory=list)


def paypal_id(rng: random.Random, length: int = 17) -> str:
    """An id as PayPal makes them: upper-case letters and digits ("5O190127TN364715T")."""
    return "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(length))


def new_payment(rng: random.Random) -> Payment:
    return Payment(order_id=paypal_id(rng))


def money(order: Order) -> dict:
    """The amount as PayPal writes it: a decimal string in major units."""
    value = Decimal(order.amount).scaleb(-get_currency_precision(order.currency))
    return {"currency_code": order.currency, "value": f"{value:f}"}


# --- Why a payment fails: PayPal's own codes for each canonical reason --------------------------

# Each reason with codes PayPal sends for it: a declined capture's processor_response codes
# ("response_code", "advice_code": PayPal-Python-Server-SDK doc/models/processor-response-code.md
# and payment-advice-code.md), a denied capture's status_details reason ("status_reason"), or
# "reversed" (CHECKOUT.PAYMENT-APPROVAL.REVERSED: the shop did not capture in time). {} is a
# declined capture with no code at all; "unknown" is a code our tables do not know.
FAILURES: dict[str, list[dict]] = {
    FailureReason.AUTHENTICATION_FAILED: [{"response_code": "5650"}, {"response_code": "PPD3"}],
    FailureReason.CARD_DETAILS_INCORRECT: [{"response_code": "5110"}, {"response_code": "PPAD"}],
    FailureReason.CARD_EXPIRED: [{"response_code": "5400"}],
    FailureReason.INSUFFICIENT_FUNDS: [{"response_code": "5120", "advice_code": "02"}],
    FailureReason.LIMIT_EXCEEDED: [{"response_code": "5710"}, {"response_code": "PPAX"}],
    FailureReason.ONLINE_PAYMENT_NOT_ENABLED: [{"response_code": "5700"}],
    FailureReason.BANK_DECLINED: [{"response_code": "0500"}, {"response_code": "5100"}, {}],
    FailureReason.PROCESSING_ERROR: [{"response_code": "9100"}, {"response_code": "5920"}],
    FailureReason.SUSPECTED_FRAUD: [
        {"response_code": "9500"},
        {"response_code": "9520"},
        {"status_reason": "PENDING_REVIEW"},
    ],
    FailureReason.MERCHANT_CONFIGURATION: [{"reversed": True}, {"status_reason": "UNILATERAL"}],
    FailureReason.UNKNOWN: [{"response_code": "PPZZ"}],
}


# --- Events -------------------------------------------------------------------------------------

_RESOURCE_TYPES = {webhooks.APPROVAL_REVERSED: "checkout-order"}
_SUMMARIES = {
    webhooks.CAPTURE_COMPLETED: "Payment completed for {amount}",
    webhooks.CAPTURE_DECLINED: "A payment capture for {amount} was declined.",
    webhooks.CAPTURE_DENIED: "A {amount} capture payment was denied",
    webhooks.APPROVAL_REVERSED: "A payment has been reversed after approval.",
}


def event(
    rng: random.Random, event_type: str, resource: dict, *, at: int, sandbox: bool = False
) -> dict:
    """A webhook event about `resource`, created at `at` (Unix seconds)."""
    event_id = f"WH-{paypal_id(rng)}-{paypal_id(rng)}"
    amount = resource.get("amount") or (resource.get("purchase_units") or [{}])[0].get("amount")
    shown = f"{amount['currency_code']} {amount['value']}" if amount else ""
    api = host(sandbox)
    return {
        "id": event_id,
        "event_version": "1.0",
        "create_time": rfc3339(at),
        "resource_type": _RESOURCE_TYPES.get(event_type, "capture"),
        "resource_version": "2.0",
        "event_type": event_type,
        "summary": _SUMMARIES.get(event_type, event_type).format(amount=shown),
        "resource": resource,
        "links": [
            {
                "href": f"{api}/v1/notifications/webhooks-events/{event_id}",
                "rel": "self",
                "method": "GET",
            },
            {
                "href": f"{api}/v1/notifications/webhooks-events/{event_id}/resend",
                "rel": "resend",
                "method": "POST",
            },
        ],
    }


def capture(
    rng: random.Random,
    order: Order,
    payment: Payment,
    status: str,
    *,
    at: int,
    codes: dict | None = None,
    sandbox: bool = False,
) -> dict:
    """A new capture of the order's payment in `status` (COMPLETED, DECLINED, DENIED), with the
    codes of a FAILURES entry."""
    capture_id = paypal_id(rng)
    payment.captures.append(capture_id)
    codes = codes or {}
    api = host(sandbox)
    found = {
        "id": capture_id,
        "status": status,
        "amount": money(order),
        "final_capture": True,
        "seller_protection": {
            "status": "ELIGIBLE",
            "dispute_categories": ["ITEM_NOT_RECEIVED", "UNAUTHORIZED_TRANSACTION"],
        },
        "invoice_id": order.reference,
        "custom_id": order.reference,
        "supplementary_data": {"related_ids": {"order_id": payment.order_id}},
        "links": [
            {"href": f"{api}/v2/payments/captures/{capture_id}", "rel": "self", "method": "GET"},
            {
                "href": f"{api}/v2/checkout/orders/{payment.order_id}",
                "rel": "up",
                "method": "GET",
            },
        ],
        "create_time": rfc3339(at - 2),
        "update_time": rfc3339(at - 1),
    }
    if status == "DECLINED":
        processor = {"avs_code": "Y", "cvv_code": "M"}
        if codes.get("response_code"):
            processor["response_code"] = codes["response_code"]
        if codes.get("advice_code"):
            processor["payment_advice_code"] = codes["advice_code"]
        found["processor_response"] = processor
    if codes.get("status_reason"):
        found["status_details"] = {"reason": codes["status_reason"]}
    return found


def failure(
    rng: random.Random,
    order: Order,
    payment: Payment,
    codes: dict,
    *,
    at: int,
    sandbox: bool = False,
) -> dict:
    """The event that reports the order's payment failing with these codes (a FAILURES
    entry): a declined capture, a denied one, or an approval reversed."""
    if codes.get("reversed"):
        resource = reversed_approval(order, payment)
        return event(rng, webhooks.APPROVAL_REVERSED, resource, at=at, sandbox=sandbox)
    denied = "status_reason" in codes
    status = "DENIED" if denied else "DECLINED"
    event_type = webhooks.CAPTURE_DENIED if denied else webhooks.CAPTURE_DECLINED
    found = capture(rng, order, payment, status, at=at, codes=codes, sandbox=sandbox)
    return event(rng, event_type, found, at=at, sandbox=sandbox)


def success(
    rng: random.Random, order: Order, payment: Payment, *, at: int, sandbox: bool = False
) -> dict:
    """PAYMENT.CAPTURE.COMPLETED for the order: the buyer paid in the end."""
    found = capture(rng, order, payment, "COMPLETED", at=at, sandbox=sandbox)
    return event(rng, webhooks.CAPTURE_COMPLETED, found, at=at, sandbox=sandbox)


def _purchase_unit(order: Order) -> dict:
    return {
        "reference_id": "default",
        "amount": money(order),
        "payee": {"email_address": "shop@example.com", "merchant_id": "7KNGBPH2U58GQ"},
        "invoice_id": order.reference,
        "custom_id": order.reference,
    }


def _payer(order: Order) -> dict:
    payer: dict = {"payer_id": "QYR5Z8XDVJNXQ", "address": {"country_code": "FR"}}
    if order.email:
        payer["email_address"] = order.email
    if order.given_name or order.surname:
        payer["name"] = {"given_name": order.given_name, "surname": order.surname}
    return payer


def reversed_approval(order: Order, payment: Payment, *, with_payer: bool = False) -> dict:
    """The resource of CHECKOUT.PAYMENT-APPROVAL.REVERSED, as PayPal's sample shows it: the
    order's id as `order_id`, and its purchase units (the payer only when asked: the event is
    read either way, the order fetched for the buyer otherwise)."""
    resource = {"order_id": payment.order_id, "purchase_units": [_purchase_unit(order)]}
    if with_payer:
        resource["payer"] = _payer(order)
    return resource


def order_resource(
    order: Order, payment: Payment, status: str = "COMPLETED", *, sandbox: bool = False
) -> dict:
    """GET /v2/checkout/orders/<id>: the order with its payer (also in payment_source.paypal,
    where the Orders API now puts it) and its captures."""
    payer = _payer(order)
    api = host(sandbox)
    unit = _purchase_unit(order)
    unit["payments"] = {"captures": [{"id": c, "status": "DECLINED"} for c in payment.captures]}
    wallet = {key: payer[key] for key in ("email_address", "name") if key in payer}
    return {
        "id": payment.order_id,
        "intent": "CAPTURE",
        "status": status,
        "payment_source": {"paypal": {**wallet, "account_id": payer["payer_id"]}},
        "purchase_units": [unit],
        "payer": payer,
        "create_time": "2026-11-20T09:58:00Z",
        "update_time": "2026-11-20T10:00:00Z",
        "links": [
            {"href": f"{api}/v2/checkout/orders/{payment.order_id}", "rel": "self", "method": "GET"}
        ],
    }


# --- The API's other answers --------------------------------------------------------------------


def token(access_token: str = "A21AAStandInToken", expires_in: int = 32400) -> dict:  # noqa: S107
    """POST /v1/oauth2/token's answer (a token lasts nine hours)."""
    return {
        "scope": "https://uri.paypal.com/services/applications/webhooks",
        "access_token": access_token,
        "token_type": "Bearer",
        "app_id": "APP-80W284485P519543T",
        "expires_in": expires_in,
        "nonce": "2026-11-20T10:00:00Zaftersale",
    }


def verification(status: str = "SUCCESS") -> dict:
    """POST /v1/notifications/verify-webhook-signature's answer: SUCCESS or FAILURE."""
    return {"verification_status": status}
