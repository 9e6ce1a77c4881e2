"""PayPal REST webhooks: stored at the edge, verified by PayPal in the worker, read into signals.

PayPal posts one event a request, a JSON object with its id (`WH-…`, the same on every retry),
`event_type`, `create_time` and the `resource` it is about
(https://developer.paypal.com/api/rest/webhooks/rest.md), with five headers that sign it:
PAYPAL-TRANSMISSION-ID, -TIME and -SIG, PAYPAL-CERT-URL and PAYPAL-AUTH-ALGO
(https://developer.paypal.com/api/webhooks/v1/definitions/verify_webhook_signature). The
signature is PayPal's own RSA signature, which only PayPal's certificate or PayPal's
verify-webhook-signature API can check; both are across the network, and nothing across the
network is called inside a web request here. So:

- the edge stores the event with those headers and answers 2xx at once, if it has the
  headers, an event id and a type we read, and the storefront has an active PayPal secret
  (else 400: nothing PayPal sends lacks them); a type we do not read is answered and stored
  nowhere;
- the worker (Adapter.process) asks PayPal whether the event is genuine (client.py). Until then
  it is not trusted: PayPal's FAILURE makes it REJECTED, processed for nothing. Once verified, a
  failure whose event names no buyer gets the buyer from the order, then the event is applied
  like any other (payments.services.ingest), idempotently and in any order.

What is read (the capture: paypal/paypal-rest-api-specifications:openapi/payments_payment_v2.json
`capture`; the order: openapi/checkout_orders_v2.json `order`; the reversal:
https://developer.paypal.com/payment-methods/uncaptured-payments.md):

| event_type | signal |
| --- | --- |
| PAYMENT.CAPTURE.COMPLETED | succeeded |
| PAYMENT.CAPTURE.DECLINED, PAYMENT.CAPTURE.DENIED | failed (processor_response, status_details) |
| CHECKOUT.PAYMENT-APPROVAL.REVERSED | failed: the shop did not capture in time (codes.py) |
"""

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from inbound import services
from inbound.edge import EdgeEvent, check_rate
from inbound.errors import VerificationError, json_object
from inbound.models import InboundEvent
from inbound.payloads import as_list, as_mapping, as_text, as_utc_datetime
from payments import signals
from payments.providers import PaymentAdapter
from payments.providers.paypal import client
from payments.providers.paypal import codes as tables
from payments.reasons import FailureReason
from payments.services import ingest
from payments.signals import PaymentSignal, SignalKind
from storefront_settings.models import Storefront
from storefront_settings.selectors import active_provider_secrets

PROVIDER = "paypal"
CAPTURE_COMPLETED = "PAYMENT.CAPTURE.COMPLETED"
CAPTURE_DECLINED = "PAYMENT.CAPTURE.DECLINED"
CAPTURE_DENIED = "PAYMENT.CAPTURE.DENIED"
APPROVAL_REVERSED = "CHECKOUT.PAYMENT-APPROVAL.REVERSED"
# The event types we read, and what each says (https://developer.paypal.com/api/rest/webhooks/
# event-names/): the merchant selects these on the webhook; any other is answered and dropped.
EVENT_TYPES: dict[str, SignalKind] = {
    CAPTURE_COMPLETED: SignalKind.SUCCEEDED,
    CAPTURE_DECLINED: SignalKind.FAILED,
    CAPTURE_DENIED: SignalKind.FAILED,
    APPROVAL_REVERSED: SignalKind.FAILED,
}
# PayPal's event ids ("WH-COC11055RA711503B-4YM959094A144403T").
EVENT_ID = re.compile(r"WH-[A-Za-z0-9-]{1,120}")
# An amount beyond this many minor units is not a shop's order: read as unknown.
MAX_AMOUNT = 10**15

Status = InboundEvent.Status


class NoCredentials(ValueError):
    """The storefront revoked its last PayPal secret after the event came: nothing can verify
    it until a secret is added (the event fails for ops, who replay it then)."""


# --- The edge -----------------------------------------------------------------------------------


def verify(body: bytes, headers: Mapping[str, str], secrets: list[str]) -> dict:
    """The event in `body`, if it can be stored for the worker to verify: the storefront has a
    PayPal secret, the request has PayPal's five signature headers, the body is a JSON object
    with an event id and type. The signature itself is PayPal's to check (the worker asks)."""
    if not secrets:
        raise VerificationError("no PayPal credentials configured")
    missing = [name.upper() for name in client.SIGNATURE_HEADERS if not headers.get(name)]
    if missing:
        raise VerificationError(f"missing {', '.join(missing)}")
    event = json_object(body)
    if not EVENT_ID.fullmatch(as_text(event.get("id"))):
        raise VerificationError("no PayPal event id (WH-…)")
    if not as_text(event.get("event_type")).strip():
        raise VerificationError("no event_type")
    return event


# --- Parsing ------------------------------------------------------------------------------------


def parse(event: Mapping) -> PaymentSignal | None:
    """The signal in a (verified) event; None for one we do not act on, or one that cannot be
    placed (no payment id, no readable create_time)."""
    event_type = as_text(event.get("event_type"))
    kind = EVENT_TYPES.get(event_type)
    occurred_at = as_utc_datetime(event.get("create_time"))
    if kind is None or occurred_at is None:
        return None
    resource = as_mapping(event.get("resource"))
    if event_type == APPROVAL_REVERSED:
        fields = _order_fields(resource)
    else:
        fields = _capture_fields(resource, kind)
    if fields is None:
        return None
    codes = {"event_type": event_type, **fields.pop("codes", {})}
    return PaymentSignal(
        provider=PROVIDER,
        kind=kind,
        event_id=as_text(event.get("id")),
        event_type=event_type,
        occurred_at=occurred_at,
        codes=codes,
        **fields,
    )


def _capture_fields(capture: Mapping, kind: SignalKind) -> dict | None:
    """A capture's ids, reference, amount and codes. A capture names no buyer: the worker gets
    the buyer from its order (order_id())."""
    capture_id = as_text(capture.get("id")).strip()
    if not capture_id:
        return None
    related = as_mapping(as_mapping(capture.get("supplementary_data")).get("related_ids"))
    others = (as_text(related.get(name)).strip() for name in ("order_id", "authorization_id"))
    amount, currency = minor_units(as_mapping(capture.get("amount")))
    codes = {}
    if kind != SignalKind.SUCCEEDED:
        processor = as_mapping(capture.get("processor_response"))
        codes = {
            "response_code": as_text(processor.get("response_code")).strip(),
            "advice_code": as_text(processor.get("payment_advice_code")).strip(),
            "status_reason": as_text(
                as_mapping(capture.get("status_details")).get("reason")
            ).strip(),
        }
    return {
        "payment_id": capture_id,
        "related_ids": tuple(dict.fromkeys(i for i in others if i and i != capture_id)),
        "order_reference": _reference(capture),
        "amount": amount,
        "currency": currency,
        # One capture is one attempt, whichever event reports its failure.
        "attempt_id": capture_id,
        "codes": {key: value for key, value in codes.items() if value},
    }


def _order_fields(resource: Mapping) -> dict | None:
    """CHECKOUT.PAYMENT-APPROVAL.REVERSED: the order (its id as `order_id`, as PayPal's sample
    shows it, or `id`), its first purchase unit, and the payer when PayPal includes it."""
    order_id = as_text(resource.get("order_id")).strip() or as_text(resource.get("id")).strip()
    if not order_id:
        return None
    unit = as_mapping(next(iter(as_list(resource.get("purchase_units"))), None))
    amount, currency = minor_units(as_mapping(unit.get("amount")))
    email, name = buyer(resource)
    return {
        "payment_id": order_id,
        "order_reference": _reference(unit),
        "amount": amount,
        "currency": currency,
        "buyer_email": email,
        "buyer_name": name,
    }


def _reference(holder: Mapping) -> str:
    """The shop's order reference: the capture's or purchase unit's invoice_id (the shop's
    invoice number), else its custom_id (the shop's own value, often its order id)."""
    for name in ("invoice_id", "custom_id"):
        value = as_text(holder.get(name)).strip()
        if value:
            return value
    return ""


def buyer(order: Mapping) -> tuple[str, str]:
    """The payer's email and name in an order (or an order event's resource): `payer`, else the
    PayPal wallet of `payment_source`, where the Orders API now puts them."""
    wallet = as_mapping(as_mapping(order.get("payment_source")).get("paypal"))
    email, name = "", ""
    for holder in (as_mapping(order.get("payer")), wallet):
        email = email or as_text(holder.get("email_address")).strip()
        name = name or _name(as_mapping(holder.get("name")))
    return email, name


def _name(name: Mapping) -> str:
    parts = (as_text(name.get(key)).strip() for key in ("given_name", "surname"))
    return " ".join(p for p in parts if p) or as_text(name.get("full_name")).strip()


def order_id(event: Mapping) -> str:
    """The order an event is about: a capture's supplementary_data.related_ids.order_id, or a
    CHECKOUT event's own resource."""
    resource = as_mapping(event.get("resource"))
    if as_text(event.get("event_type")).startswith("CHECKOUT."):
        return as_text(resource.get("order_id")).strip() or as_text(resource.get("id")).strip()
    related = as_mapping(as_mapping(resource.get("supplementary_data")).get("related_ids"))
    return as_text(related.get("order_id")).strip()


def minor_units(money: Mapping) -> tuple[int | None, str]:
    """PayPal's `{"currency_code", "value"}` (a decimal string in major units) as an amount in
    the currency's minor units (babel's precision, as payments.services.display shows it) and
    the currency; None for a value that is not an exact amount of that currency."""
    currency = as_text(money.get("currency_code")).strip().upper()
    if not currency:
        return None, ""
    amount = signals.minor_units(as_text(money.get("value")), currency)
    if amount is None or amount != amount.to_integral_value():
        return None, currency
    if not 0 <= amount < MAX_AMOUNT:
        return None, currency
    return int(amount), currency


# --- What the order adds ------------------------------------------------------------------------


@dataclass(frozen=True)
class FromOrder:
    """What the order tells that a capture event does not."""

    email: str = ""
    name: str = ""
    reference: str = ""

    @classmethod
    def of(cls, order: Mapping) -> "FromOrder":
        email, name = buyer(order)
        unit = as_mapping(next(iter(as_list(order.get("purchase_units"))), None))
        return cls(email=email, name=name, reference=_reference(unit))

    def complete(self, signal: PaymentSignal) -> PaymentSignal:
        """The signal with its blanks filled; what the event says itself wins."""
        return replace(
            signal,
            buyer_email=signal.buyer_email or self.email,
            buyer_name=signal.buyer_name or self.name,
            order_reference=signal.order_reference or self.reference,
        )


# --- The adapter --------------------------------------------------------------------------------


class Adapter(PaymentAdapter):
    """POST /webhooks/paypal/<public id>/: one event, stored with the headers that sign it; the
    worker has PayPal verify it before anything is read from it."""

    kept_headers = ("Content-Type", "User-Agent", *client.SIGNATURE_HEADERS)

    def verify(self, body: bytes, headers: Mapping[str, str], secrets: list[str]) -> dict:
        return verify(body, headers, secrets)

    def events(self, storefront: Storefront, body: bytes, payload: dict) -> list[EdgeEvent]:
        event_type = as_text(payload.get("event_type"))
        if event_type not in EVENT_TYPES:
            return []  # PayPal sends what the webhook subscribes to; we read these only
        # Verified only later, by a call with the merchant's credentials: counted as the
        # unsigned notifications are.
        check_rate(storefront, client.SERVICE)
        return [
            EdgeEvent(
                storefront=storefront,
                event_id=as_text(payload.get("id")),
                event_type=event_type,
                body=body.decode("utf-8"),  # json_object() proved it UTF-8
            )
        ]

    def parse(self, event: Any) -> PaymentSignal | None:
        return parse(event) if isinstance(event, dict) else None

    def classify(self, codes: Mapping[str, str], kind: SignalKind) -> FailureReason:
        return tables.classify(codes, kind)

    def process(self, *, event_id: int) -> str:
        """Verify the stored event with PayPal, then apply it. Read without a lock: the calls
        to PayPal must not hold a row lock, and ingest claims the row (SKIP LOCKED) to apply
        it, so a duplicate task at worst asks PayPal twice."""
        event = (
            InboundEvent.unscoped.select_related("storefront")
            .filter(pk=event_id, status=Status.RECEIVED)
            .first()
        )
        if event is None:
            return "skipped"  # processed already
        payload = json.loads(event.body)
        if not isinstance(payload, dict):
            raise ValueError("the stored PayPal event is not a JSON object")
        secrets = active_provider_secrets(storefront=event.storefront, provider=event.provider)
        apps = [app for app in map(client.credentials, secrets) if app is not None]
        if not apps:
            raise NoCredentials("no PayPal secret to verify the event with")
        base = client.api_base(event.headers, payload)
        app = client.verifying_app(base, apps, event.headers, event.body)
        if app is None:
            services.finish(
                event,
                status=Status.REJECTED,
                error="PayPal did not verify this event for the webhook of any active "
                "PayPal secret (verify-webhook-signature: FAILURE)",
            )
            return "rejected"
        return ingest.process_inbound_event(
            event_id=event.pk, read=self._reader(self._from_order(base, app, payload))
        )

    def _from_order(self, base: str, app: client.Credentials, payload: dict) -> FromOrder:
        """The order's buyer, for a failure whose event names none (a capture never does); a
        success needs no email, so no call is made for it."""
        signal = parse(payload)
        if signal is None or signal.kind == SignalKind.SUCCEEDED or signal.buyer_email:
            return FromOrder()
        ordered = order_id(payload)
        found = client.order(base, app, ordered) if ordered else None
        return FromOrder.of(found) if found is not None else FromOrder()

    def _reader(self, from_order: FromOrder) -> Callable[[str], list[PaymentSignal]]:
        def read(body: str) -> list[PaymentSignal]:
            return [from_order.complete(signal) for signal in self.signals(body)]

        return read
