"""Mollie's (classic) webhooks: read the payment id a notification names, fetch the payment from
Mollie's API with the storefront's key, turn the fetched payment into a PaymentSignal.

Mollie posts `id=tr_…` (application/x-www-form-urlencoded) to the webhook URL a payment was
created with, on each status change that matters (paid, failed, canceled, expired), and again for
its refunds and chargebacks; nothing is signed and no status is sent: "fake calls to your webhook
will never result in orders being processed without being actually paid", because the receiver
fetches the payment (https://docs.mollie.com/reference/webhooks; mollie/api-documentation,
source/overview/webhooks.rst). Mollie counts only a 200 as delivered, waits 15 s, and retries ten
times over 26 hours; it advises answering 200 even for an id the receiver does not know, so as
to leak nothing. inbound.notified does the rest: the edge stores each notification, and the
worker fetches the payment, stores the state fetched once (the payment id and its status: a
repeated notification of one status is one event, a payment that fails and is later paid would
be two) and processes it; an id Mollie does not know for the storefront's keys is REJECTED.

The payment: https://docs.mollie.com/reference/get-payment (source/reference/v2/payments-api/
get-payment.rst, and Mollie's OpenAPI description as mollie/mollie-api-typescript publishes it);
statuses: https://docs.mollie.com/payments/status-changes; the customer:
https://docs.mollie.com/reference/get-customer. The codes are kept raw; what they mean is
codes.py's business.

Only payments (`tr_…`) are read. Mollie's Orders API (`ord_…`, deprecated by Mollie in favour of
payments with lines) notifies an order's own webhook with the order id, and its next-gen
webhooks (beta: per profile, JSON events signed in `X-Mollie-Signature`) have another shape;
neither is accepted here.
"""

import contextlib
import json
import re
from collections.abc import Mapping
from decimal import ROUND_HALF_UP
from typing import Any
from urllib.parse import parse_qs

from django.conf import settings

from inbound import remote
from inbound.errors import VerificationError
from inbound.payloads import as_mapping, as_text, as_utc_datetime
from payments.providers import NotifiedPaymentAdapter
from payments.providers.mollie import codes as tables
from payments.reasons import FailureReason
from payments.signals import PaymentSignal, SignalKind, minor_units

PROVIDER = "mollie"
SERVICE = "Mollie"  # in errors and logs (inbound.remote)

# A payment id: "tr_" then letters and digits (tr_WDqYK6vllg in Mollie's examples of 2018,
# tr_5B8cwPMGnU6qLbRvo7qEZo now; the OpenAPI pattern is ^tr_.+$). The cap keeps a forged id
# short in the stored row and in the URL fetched.
PAYMENT_ID = re.compile(r"tr_[A-Za-z0-9]{1,64}")
CUSTOMER_ID = re.compile(r"cst_[A-Za-z0-9]{1,64}")
# The payment the connections page's test event names: answered 200, never stored or fetched.
TEST_PAYMENT_ID = "tr_aftersaletest"
# A status as it may appear in a stored event's id (inbound.notified: "<payment id>:<status>").
_STATUS_WORD = re.compile(r"[a-z_]{1,30}")
# More fields than a notification has (Mollie sends one): parse_qs refuses the rest.
_MAX_FIELDS = 10

# The statuses that settle a payment, and what each says. `open` and `pending` do not: Mollie
# does not call the webhook for them; a notification that finds one (a relayed or early call)
# is stored and ignored, and the outcome's own notification follows.
STATUSES: dict[str, SignalKind] = {
    # "The payment has failed and cannot be completed with a different payment method" (status
    # changes page): final. The buyer's next try is a new payment, with a new id.
    "failed": SignalKind.FAILED,
    "canceled": SignalKind.ABANDONED,  # the buyer cancelled (or the shop did, through the API)
    "expired": SignalKind.ABANDONED,  # the buyer left: 30 minutes for cards, longer for others
    "paid": SignalKind.SUCCEEDED,
    # Klarna, and cards with manual capture: the buyer has paid as far as they are concerned;
    # the shop captures later. Not a sale to win back.
    "authorized": SignalKind.SUCCEEDED,
}
# When each status was reached: the payment's own field for it (get-payment).
STATUS_DATES = {
    "failed": "failedAt",
    "canceled": "canceledAt",
    "expired": "expiredAt",
    "paid": "paidAt",
    "authorized": "authorizedAt",
}


# --- The notification ---------------------------------------------------------------------------


def notified_payment_id(body: bytes) -> str:
    """The payment id of a notification, `id=tr_…`; VerificationError (a 400 with the reason)
    for a body that names none. Mollie's own notifications always name one: a body that does
    not is someone else's, or a misconfigured relay, and nothing of it is stored."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise VerificationError("body is not UTF-8") from None
    if text.lstrip().startswith("{"):
        raise VerificationError(
            "a JSON body: this URL takes Mollie's classic webhooks (id=tr_…), not next-gen events"
        )
    try:
        ids = parse_qs(text, keep_blank_values=True, max_num_fields=_MAX_FIELDS).get("id", [])
    except ValueError:  # more fields than a notification has
        raise VerificationError("not a Mollie notification (id=tr_…)") from None
    if len(ids) != 1:
        raise VerificationError(
            "no payment id (expected id=tr_…)" if not ids else "more than one id"
        )
    payment_id = ids[0]
    if payment_id.startswith("ord_"):
        raise VerificationError("a Mollie order (ord_…): only payments (tr_…) are read")
    if not PAYMENT_ID.fullmatch(payment_id):
        raise VerificationError("not a Mollie payment id (expected id=tr_…)")
    return payment_id


# --- The fetch (in the worker) ------------------------------------------------------------------


def fetch(payment_id: str, key: str) -> dict:
    """`{"payment": …}` as Mollie's API gives it for `key` (an API key, live_ or test_), with
    `"customer": …` when the buyer's email is only there: the event stored from it then holds
    everything parse() reads, so a replay calls nobody. Raises inbound.remote's errors (a 404
    is NotFound: no such payment for this key)."""
    base = settings.MOLLIE_API_BASE.rstrip("/")  # read now: tests and staging point it elsewhere
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/hal+json"}
    payment = remote.call(SERVICE, "GET", f"{base}/v2/payments/{payment_id}", headers=headers)
    if not isinstance(payment, dict) or payment.get("id") != payment_id:
        # A stand-in or a proxy answering for another resource: not an answer about this one.
        raise remote.Unavailable(f"{SERVICE} GET /v2/payments/{payment_id}: not that payment")
    fetched: dict[str, Any] = {"payment": payment}
    customer_id = as_text(payment.get("customerId"))
    if not _direct_email(payment) and CUSTOMER_ID.fullmatch(customer_id):
        # A customer deleted since (404): the payment is read without its buyer's address.
        with contextlib.suppress(remote.NotFound):
            fetched["customer"] = remote.call(
                SERVICE, "GET", f"{base}/v2/customers/{customer_id}", headers=headers
            )
    return fetched


def state(fetched: Mapping) -> str:
    """The payment's status: the part of it that makes a new event. A failed payment is final
    (a new try is a new payment), so its failure reason cannot change and is not part of it;
    refunds and chargebacks leave a paid payment `paid`, so they add no event."""
    status = as_text(as_mapping(fetched.get("payment")).get("status"))
    return status if _STATUS_WORD.fullmatch(status) else "unknown"


# --- Parsing (the stored fetched event) ---------------------------------------------------------


def parse(event: Mapping) -> PaymentSignal | None:
    """The signal in a stored fetched event, `{"notified_at": ISO, "object": fetch()'s dict}`;
    None for a payment that is not settled yet (open, pending) or not a payment."""
    fetched = as_mapping(event.get("object"))
    payment = as_mapping(fetched.get("payment"))
    payment_id = as_text(payment.get("id"))
    status = as_text(payment.get("status"))
    kind = STATUSES.get(status)
    if kind is None or not PAYMENT_ID.fullmatch(payment_id):
        return None
    # When the status was reached, by the payment's own field for it; the notification's time
    # if Mollie left it out (it comes at once, so it is the next best). Never createdAt: that is
    # when the buyer began, and would order a sale's events wrongly.
    occurred_at = as_utc_datetime(payment.get(STATUS_DATES[status])) or as_utc_datetime(
        event.get("notified_at")
    )
    if occurred_at is None:
        return None  # stored by inbound.notified, which always writes notified_at
    customer = as_mapping(fetched.get("customer"))
    metadata = _metadata(payment.get("metadata"))
    billing = as_mapping(payment.get("billingAddress"))
    amount, currency = _amount(payment.get("amount"))
    return PaymentSignal(
        provider=PROVIDER,
        kind=kind,
        event_id=f"{payment_id}:{status}",
        event_type=status,
        occurred_at=occurred_at,
        payment_id=payment_id,
        order_reference=_order_reference(metadata),
        amount=amount,
        currency=currency,
        buyer_email=_direct_email(payment) or _text(customer.get("email")),
        buyer_name=_buyer_name(payment, billing, customer),
        buyer_phone=_text(billing.get("phone"))
        or _text(as_mapping(payment.get("shippingAddress")).get("phone")),
        codes=_codes(payment),
        # None: Mollie's checkout link (_links.checkout) pays this payment only while it is
        # open; a failed, canceled or expired payment cannot be paid again, so the buyer is sent
        # to the shop's own checkout (the recovery policy's template) instead.
        recovery_url="",
        # One Mollie payment is one attempt, with one outcome: a repeated notification of it
        # counts once (a retry by the buyer is a new payment, a new attempt).
        attempt_id=payment_id,
    )


def _metadata(value: Any) -> Mapping:
    """The shop's metadata: "any data you like" (get-payment). Shops send an object; some send
    a JSON text of one (Mollie's own example of a next-gen payload has `"{\\"order_id\\":
    12345}"`), which is read the same."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return as_mapping(value)


def _text(value: Any) -> str:
    return as_text(value).strip()


def _scalar(value: Any) -> str:
    """A metadata value as text: shops send order ids as numbers as often as strings."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return str(value)
    return _text(value)


def _order_reference(metadata: Mapping) -> str:
    # What the shop put there: Mollie's own example and its modules (WooCommerce, Magento) use
    # order_id. The description is not read: Mollie requires one on every payment, and a shop
    # that writes the same words on all of them would merge their sales into one.
    for key in ("order_id", "order_reference"):
        if text := _scalar(metadata.get(key)):
            return text
    return ""


def _direct_email(payment: Mapping) -> str:
    """The buyer's address on the payment itself, without asking for its customer: the shop's
    metadata, the billing (then shipping) address, a bank transfer's `details.billingEmail`."""
    candidates = (
        _metadata(payment.get("metadata")).get("email"),
        as_mapping(payment.get("billingAddress")).get("email"),
        as_mapping(payment.get("shippingAddress")).get("email"),
        as_mapping(payment.get("details")).get("billingEmail"),
    )
    for value in candidates:
        if text := _text(value):
            return text
    return ""


def _buyer_name(payment: Mapping, billing: Mapping, customer: Mapping) -> str:
    given_and_family = " ".join(
        part for part in (_text(billing.get("givenName")), _text(billing.get("familyName"))) if part
    )
    details = as_mapping(payment.get("details"))
    for value in (
        given_and_family,
        customer.get("name"),
        details.get("cardHolder"),  # cards, once completed
        details.get("consumerName"),  # bank methods, once completed
    ):
        if text := _text(value):
            return text
    return ""


def _amount(value: Any) -> tuple[int | None, str]:
    """Mollie's `{"currency": "EUR", "value": "10.00"}` in minor units of the currency, by its
    ISO 4217 exponent as babel knows it (the one payments.services.display shows amounts with:
    cents for EUR, none for JPY, three for KWD); a value with more decimals than the currency
    has is rounded half up. (None, "") for an amount that is not one."""
    amount = as_mapping(value)
    currency = _text(amount.get("currency")).upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        return None, ""
    minor = minor_units(_text(amount.get("value")), currency)
    if minor is None or minor < 0:
        return None, currency
    return int(minor.to_integral_value(rounding=ROUND_HALF_UP)), currency


def _codes(payment: Mapping) -> dict[str, str]:
    """Mollie's raw codes under the keys codes.classify reads, and the method for ops."""
    details = as_mapping(payment.get("details"))
    pairs = (
        ("status", payment.get("status")),
        ("failure_reason", details.get("failureReason")),
        ("bank_reason_code", details.get("bankReasonCode")),
        ("method", payment.get("method")),
    )
    return {key: text for key, value in pairs if (text := _text(value))}


# --- The adapter --------------------------------------------------------------------------------


class Adapter(NotifiedPaymentAdapter):
    """POST /webhooks/mollie/<public id>/: `id=tr_…`, fetched with the storefront's API key."""

    service = SERVICE
    test_id = TEST_PAYMENT_ID

    def notified_id(self, body: bytes, headers: Mapping[str, str]) -> str:
        return notified_payment_id(body)

    def fetch(self, object_id: str, key: str) -> dict:
        return fetch(object_id, key)

    def state(self, fetched: dict) -> str:
        return state(fetched)

    def parse(self, event: Any) -> PaymentSignal | None:
        return parse(event) if isinstance(event, dict) else None

    def classify(self, codes: Mapping[str, str], kind: SignalKind) -> FailureReason:
        return tables.classify(codes, kind)
