"""Stripe webhooks: verify the signature, and turn an event into a PaymentSignal.

Verification follows Stripe's scheme (https://docs.stripe.com/webhooks#verify-events): the
`Stripe-Signature` header is `t=<unix time>,v1=<hex HMAC-SHA256>` (more than one `v1` during a
secret roll), the HMAC key is the endpoint secret as given (the whole `whsec_…` string) and the
signed text is `f"{t}.{raw body}"`. The check is `hmac` on the raw bytes, each `v1` compared in
constant time (hmac.compare_digest), as the stripe library's WebhookSignature.verify_header does;
the library is not used: it decodes the body to re-encode it, and its time check refuses only
timestamps too old, never ones from the future, and reads the clock itself (ours is two-sided and
takes `now`, so it is testable). tests/test_provider_stripe.py checks both against the library
and an independent computation. sign() makes the header Stripe sends, for our own sample and demo
events, with the HMAC the check computes.

Parsing reads Stripe's documented objects, nothing else: the event
(https://docs.stripe.com/api/events/object), the payment intent
(https://docs.stripe.com/api/payment_intents/object), the charge
(https://docs.stripe.com/api/charges/object, `outcome` explained at
https://docs.stripe.com/declines) and the checkout session
(https://docs.stripe.com/api/checkout/sessions/object, recovery at
https://docs.stripe.com/payments/checkout/abandoned-carts). The codes are kept raw; what they
mean is codes.py's business.
"""

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from inbound.edge import EdgeEvent
from inbound.errors import VerificationError
from inbound.payloads import as_mapping, as_text
from payments.providers import PaymentAdapter
from payments.providers.stripe import codes as tables
from payments.reasons import FailureReason
from payments.signals import PaymentSignal, SignalKind
from storefront_settings.models import ConnectedAccount, Storefront

PROVIDER = "stripe"
DEFAULT_TOLERANCE = 300  # seconds, either way: Stripe's own default

# The events we read, and what each says; the connections page asks the merchant for these.
EVENT_TYPES: dict[str, SignalKind] = {
    "payment_intent.payment_failed": SignalKind.FAILED,
    "charge.failed": SignalKind.FAILED,
    "checkout.session.async_payment_failed": SignalKind.FAILED,
    "payment_intent.canceled": SignalKind.ABANDONED,
    "checkout.session.expired": SignalKind.ABANDONED,
    "payment_intent.succeeded": SignalKind.SUCCEEDED,
    "charge.succeeded": SignalKind.SUCCEEDED,
    "checkout.session.completed": SignalKind.SUCCEEDED,
    # The success that follows a "completed but unpaid" session (SEPA debit, bank transfer…):
    # the pair of checkout.session.async_payment_failed.
    "checkout.session.async_payment_succeeded": SignalKind.SUCCEEDED,
}


# --- Signing and verification -------------------------------------------------------------------


def sign(body: bytes, secret: str, *, timestamp: int) -> dict[str, str]:
    """The `Stripe-Signature` header Stripe would send with `body` (UTF-8 JSON), signed with
    `secret` (the whole `whsec_…` string) at `timestamp` (Unix seconds)."""
    return {"Stripe-Signature": f"t={timestamp},v1={_signature(body, secret, timestamp)}"}


def verify(
    payload: bytes,
    signature_header: str | None,
    secrets: list[str],
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> dict:
    """The event in `payload`, once its `Stripe-Signature` header is proven to come from Stripe.

    Any of `secrets` may match: while a secret is rolled, the old and the new are both active.
    The header's timestamp must be within `tolerance` seconds of `now` (default: the clock), in
    the past or in the future. Raises VerificationError with a short reason that names neither
    a secret nor a signature.
    """
    if not signature_header:
        raise VerificationError("missing Stripe-Signature header")
    keys = [secret for secret in secrets if secret and secret.strip()]
    if not keys:
        raise VerificationError("no webhook secret configured")
    timestamp, signatures = _parse_header(signature_header)
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise VerificationError("body is not UTF-8") from None

    if not any(_signed_with(payload, timestamp, signatures, key) for key in keys):
        raise VerificationError("no matching signature")
    # Checked after the signature, as Stripe's libraries do: the timestamp is only worth
    # trusting once it is known to be signed (it is part of the signed text).
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise VerificationError("timestamp outside the tolerance")

    try:
        event = json.loads(text)
    except ValueError:
        raise VerificationError("body is not valid JSON") from None
    if not isinstance(event, dict):
        raise VerificationError("body is not a JSON object")
    if not as_text(event.get("id")) or not as_text(event.get("type")):
        raise VerificationError("event has no id or type")
    return event


def _parse_header(header: str) -> tuple[int, list[str]]:
    """The `t` and every `v1` of a well-formed header (one with at least one `v1`).

    Read as Stripe's own library reads it (stripe.WebhookSignature._get_timestamp_and_signatures:
    comma-separated `key=value` items, the first `t`, every `v1`, nothing stripped), so that
    what it refused is still refused. Stripe may add other elements (a `v0` in test mode):
    they are not ours to judge, but a `t` or `v1` without a value is malformed."""
    timestamp: int | None = None
    signatures = []
    for item in header.split(","):
        key, sep, value = item.partition("=")
        if not sep:
            if key in ("t", "v1"):
                raise VerificationError("malformed Stripe-Signature header")
            continue
        if key == "t" and timestamp is None:
            if not (value.isascii() and value.isdigit()):
                raise VerificationError("malformed Stripe-Signature header")
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise VerificationError("malformed Stripe-Signature header")
    return timestamp, signatures


def _signature(payload: bytes, secret: str, timestamp: int) -> str:
    """HMAC-SHA256 keyed with the secret, over `<t>.<raw body>`, in hex: the signed text is
    built from the raw bytes as they came, never a decoded and re-encoded copy."""
    signed = b"%d." % timestamp + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def _signed_with(payload: bytes, timestamp: int, signatures: list[str], secret: str) -> bool:
    expected = _signature(payload, secret, timestamp).encode()
    # Each v1 in constant time: while Stripe rolls a secret it signs with both.
    return any(hmac.compare_digest(expected, given.encode()) for given in signatures)


# --- Parsing ------------------------------------------------------------------------------------


def parse(event: dict) -> PaymentSignal | None:
    """The signal in a (verified) Stripe event; None for an event we do not act on."""
    event_type = as_text(event.get("type"))
    kind = EVENT_TYPES.get(event_type)
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    created = event.get("created")
    if kind is None or not isinstance(obj, dict) or not as_text(obj.get("id")):
        return None
    if not isinstance(created, int) or isinstance(created, bool):
        return None  # Stripe always sends it; without a time the event cannot be ordered
    if event_type == "checkout.session.completed" and obj.get("payment_status") == "unpaid":
        # The buyer finished the checkout with a delayed method (SEPA debit, bank transfer…):
        # no money yet. checkout.session.async_payment_succeeded or _failed will say how it
        # ended; calling this a success would cancel the recovery of a payment that may fail.
        return None

    obj_type = as_text(obj.get("object"))
    return PaymentSignal(
        provider=PROVIDER,
        kind=kind,
        event_id=as_text(event.get("id")),
        event_type=event_type,
        occurred_at=datetime.fromtimestamp(created, tz=UTC),
        payment_id=as_text(obj["id"]),
        related_ids=_related_ids(obj, obj_type),
        order_reference=_order_reference(obj),
        amount=_amount(obj, obj_type),
        currency=as_text(obj.get("currency")).upper(),
        buyer_email=_buyer(obj, "email"),
        buyer_name=_buyer(obj, "name"),
        buyer_phone=_buyer(obj, "phone"),
        codes=_codes(obj, obj_type),
        recovery_url=_recovery_url(obj) if event_type == "checkout.session.expired" else "",
        connected_account=as_text(event.get("account")),
        attempt_id=_attempt_id(obj, obj_type, kind),
    )


def _related_ids(obj: Mapping, obj_type: str) -> tuple[str, ...]:
    # The other Stripe ids this payment goes by, so that events about the intent, its charges
    # and its checkout session all land on one Payment.
    if obj_type == "payment_intent":
        related = [_id(obj.get("latest_charge"))]
    else:  # a charge or a checkout session points at its payment intent
        related = [_id(obj.get("payment_intent"))]
    return tuple(ref for ref in related if ref)


def _attempt_id(obj: Mapping, obj_type: str, kind: SignalKind) -> str:
    # payment_intent.payment_failed and charge.failed report one attempt, the charge: naming
    # it in both makes the attempt count once. A cancellation or an expired session is not a
    # charge attempt (latest_charge would be an older, already counted one): its own event.
    if kind == SignalKind.ABANDONED:
        return ""
    if obj_type == "charge":
        return as_text(obj.get("id"))
    if obj_type == "payment_intent":
        return _id(obj.get("latest_charge"))
    return ""


def _order_reference(obj: Mapping) -> str:
    metadata = as_mapping(obj.get("metadata"))
    for value in (
        metadata.get("order_id"),
        metadata.get("order_reference"),
        obj.get("client_reference_id"),  # checkout sessions
        obj.get("description"),
    ):
        if text := as_text(value).strip():
            return text
    return ""


def _amount(obj: Mapping, obj_type: str) -> int | None:
    value = obj.get("amount_total" if obj_type == "checkout.session" else "amount")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def _buyer(obj: Mapping, field: str) -> str:
    """The buyer's email, name or phone, from the most direct source Stripe gives."""
    error = as_mapping(obj.get("last_payment_error"))
    shipping = (
        as_mapping(obj.get("shipping"))
        or as_mapping(obj.get("shipping_details"))
        or as_mapping(as_mapping(obj.get("collected_information")).get("shipping_details"))
    )
    candidates = [
        obj.get("receipt_email") if field == "email" else None,
        as_mapping(obj.get("billing_details")).get(field),  # charges
        as_mapping(as_mapping(error.get("payment_method")).get("billing_details")).get(field),
        as_mapping(obj.get("customer_details")).get(field),  # checkout sessions
        obj.get("customer_email") if field == "email" else None,
        shipping.get(field) if field != "email" else None,
    ]
    for value in candidates:
        if text := as_text(value).strip():
            return text
    return ""


def _codes(obj: Mapping, obj_type: str) -> dict[str, str]:
    """Stripe's raw codes under the keys codes.classify reads."""
    error = as_mapping(obj.get("last_payment_error"))
    outcome = as_mapping(obj.get("outcome"))
    pairs: list[tuple[str, Any]] = []
    if obj_type == "payment_intent":
        pairs += [
            ("code", error.get("code")),
            ("decline_code", error.get("decline_code")),
            ("advice_code", error.get("advice_code")),
            ("network_decline_code", error.get("network_decline_code")),
            ("cancellation_reason", obj.get("cancellation_reason")),
        ]
    elif obj_type == "charge":
        pairs += [
            ("failure_code", obj.get("failure_code")),
            ("outcome_type", outcome.get("type")),
            ("outcome_reason", outcome.get("reason")),
            ("network_decline_code", outcome.get("network_decline_code")),
        ]
    return {key: text for key, value in pairs if (text := _code(value))}


def _recovery_url(obj: Mapping) -> str:
    # Present only when the shop enabled recovery and the buyer can be reached; Stripe gives
    # a URL that reopens the same cart (https://docs.stripe.com/payments/checkout/abandoned-carts).
    recovery = as_mapping(as_mapping(obj.get("after_expiration")).get("recovery"))
    return as_text(recovery.get("url"))


# --- Small readers: Stripe fields are often null, and ids may come expanded ---------------------


def _id(value: Any) -> str:
    if isinstance(value, Mapping):  # an expanded object
        return as_text(value.get("id"))
    return as_text(value)


def _code(value: Any) -> str:
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):  # network codes are strings, but be lenient with digits
        return str(value)
    return as_text(value).strip()


# --- The webhook edge ---------------------------------------------------------------------------


class Adapter(PaymentAdapter):
    """POST /webhooks/stripe/<public id>/: one event a request, signed in `Stripe-Signature`."""

    kept_headers = ("Content-Type", "User-Agent", "Stripe-Signature")

    def verify(self, body: bytes, headers: Mapping[str, str], secrets: list[str]) -> dict:
        return verify(body, headers.get("Stripe-Signature"), secrets)

    def events(self, storefront: Storefront, body: bytes, payload: dict) -> list[EdgeEvent]:
        return [
            EdgeEvent(
                storefront=connect_target(storefront, payload.get("account")),
                event_id=str(payload["id"]),
                event_type=str(payload["type"]),
                body=body.decode("utf-8"),  # verify() refused anything that is not UTF-8
            )
        ]

    def parse(self, event: Any) -> PaymentSignal | None:
        return parse(event) if isinstance(event, dict) else None

    def classify(self, codes: Mapping[str, str], kind: SignalKind) -> FailureReason:
        return tables.classify(codes, kind)


def connect_target(storefront: Storefront, account: Any) -> Storefront:
    """A Stripe Connect event goes to the storefront that owns the connected account, but only
    one this storefront (the platform) routes to: a tenant can sign anything with its own
    secret, so the account id alone must not reach another tenant."""
    if not account or not isinstance(account, str):
        return storefront
    route = (
        ConnectedAccount.objects.for_storefront(storefront)
        .filter(provider=PROVIDER, account_id=account)
        .select_related("connected_storefront")
        .first()
    )
    return route.connected_storefront if route is not None else storefront
