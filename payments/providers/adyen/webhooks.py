"""Adyen standard webhooks (notifications): verify each item's HMAC, turn an item into a signal.

Adyen posts `{"live": "false", "notificationItems": [{"NotificationRequestItem": {...}}, ...]}`
and expects the body `[accepted]` back (https://docs.adyen.com/development-resources/webhooks/).
Each item carries `additionalData.hmacSignature`: the Base64 of an HMAC-SHA256 whose key is the
hex-decoded HMAC key from the Customer Area, over the item's fields joined by ":" in this order:
pspReference, originalReference, merchantAccountCode, merchantReference, amount.value,
amount.currency, eventCode, success; a missing field is an empty string, and values are not
escaped (https://docs.adyen.com/development-resources/webhooks/verify-hmac-signatures; checked
against Adyen's own Python library, Adyen/util.py `generate_notification_sig`, and its test
vectors, which tests/test_provider_adyen.py replays).

Item fields: https://docs.adyen.com/api-explorer/Webhooks/1/post/AUTHORISATION; refusal
reasons in `reason`: https://docs.adyen.com/development-resources/refusal-reasons/. The reason
is kept raw; what it means is codes.py's business.
"""

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from inbound.edge import EdgeEvent
from inbound.errors import VerificationError
from inbound.payloads import as_mapping, as_text
from payments.providers import PaymentAdapter
from payments.providers.adyen import codes as tables
from payments.reasons import FailureReason
from payments.signals import PaymentSignal, SignalKind
from storefront_settings.models import Storefront

PROVIDER = "adyen"
# The body Adyen expects in the response: anything else and it retries the whole batch.
ACCEPTED_RESPONSE = "[accepted]"

_SIGNED_FIELDS = (
    "pspReference",
    "originalReference",
    "merchantAccountCode",
    "merchantReference",
    "value",  # amount.value
    "currency",  # amount.currency
    "eventCode",
    "success",
)
# Event codes that end a payment without money: the buyer left (OFFER_CLOSED: the offer made
# to the shopper, e.g. a redirect or a voucher, expired) or the payment was cancelled.
_ABANDONED_CODES = frozenset({"CANCELLATION", "OFFER_CLOSED"})


# --- Signing and verification -------------------------------------------------------------------


def verify(payload: bytes, secrets: list[str]) -> list[dict]:
    """The NotificationRequestItems of `payload`, each proven signed with one of `secrets`
    (hex HMAC keys; several during a key rotation).

    All or nothing: if any item is unsigned or signed with no known key, the whole batch is
    refused (VerificationError), so nothing of it is half-stored; Adyen then retries the batch.
    """
    keys = _keys(secrets)
    if not keys:
        raise VerificationError("no HMAC key configured")
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise VerificationError("body is not valid JSON") from None
    entries = body.get("notificationItems") if isinstance(body, dict) else None
    if not isinstance(entries, list) or not entries:
        raise VerificationError("no notificationItems")

    items = []
    for number, entry in enumerate(entries, start=1):
        item = entry.get("NotificationRequestItem") if isinstance(entry, dict) else None
        if not isinstance(item, dict):
            raise VerificationError(f"item {number} is not a NotificationRequestItem")
        received = as_mapping(item.get("additionalData")).get("hmacSignature")
        if not isinstance(received, str) or not received:
            raise VerificationError(f"item {number} has no hmacSignature")
        if not any(_matches(item, key, received) for key in keys):
            raise VerificationError(f"item {number}: no matching signature")
        items.append(item)
    return items


def sign(item: dict, secret: str) -> dict:
    """`item` (a NotificationRequestItem) with `additionalData.hmacSignature` set as Adyen sets
    it, signed with `secret` (a hex HMAC key; binascii.Error if it is not hex). Changed in place
    and returned."""
    signature = _signature(item, _key(secret)).decode("ascii")
    item.setdefault("additionalData", {})["hmacSignature"] = signature
    return item


def _key(secret: str) -> bytes:
    return binascii.unhexlify(secret.strip())


def _keys(secrets: list[str]) -> list[bytes]:
    keys = []
    for secret in secrets:
        try:
            keys.append(_key(secret))
        except (binascii.Error, ValueError):
            # Not a hex key (a paste error): it can match nothing, and must not stop the
            # other, valid keys from working.
            continue
    return [key for key in keys if key]


def signing_string(item: Mapping) -> str:
    """The text Adyen signs for one item (fields joined by ":", no escaping)."""
    amount = as_mapping(item.get("amount"))
    values = {**item, "value": amount.get("value"), "currency": amount.get("currency")}
    return ":".join(_field(values.get(name)) for name in _SIGNED_FIELDS)


def _field(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):  # Adyen sends "true"/"false" strings; a JSON boolean signs alike
        return "true" if value else "false"
    return str(value)


def _signature(item: Mapping, key: bytes) -> bytes:
    """The item's hmacSignature (Base64, as bytes) under `key`: one computation for sign and
    verify."""
    digest = hmac.new(key, signing_string(item).encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest)


def _matches(item: Mapping, key: bytes, received: str) -> bool:
    return hmac.compare_digest(_signature(item, key), received.encode("utf-8"))


# --- Parsing ------------------------------------------------------------------------------------


def event_id(item: Mapping) -> str:
    """The item's identity for de-duplication.

    Adyen gives no event id. It retries an unacknowledged item unchanged, and one payment's
    pspReference carries one item per event code and outcome (an AUTHORISATION, later a
    CANCELLATION with its own pspReference…), so this triple names one item, however often sent.
    """
    return f"{as_text(item.get('pspReference'))}:{as_text(item.get('eventCode'))}:{_success(item)}"


def parse(item: dict) -> PaymentSignal | None:
    """The signal in a (verified) NotificationRequestItem; None for one we do not act on."""
    event_code = as_text(item.get("eventCode"))
    succeeded = _success(item) == "true"
    reason = as_text(item.get("reason")).strip()
    if event_code == "AUTHORISATION":
        kind = SignalKind.SUCCEEDED if succeeded else SignalKind.FAILED
        codes = {"event_code": event_code}
        if not succeeded and reason:
            codes["reason"] = reason
    elif event_code in _ABANDONED_CODES and succeeded:
        # success=false on a CANCELLATION means the cancellation itself failed: the payment
        # still stands, nothing was abandoned.
        kind = SignalKind.ABANDONED
        codes = {"event_code": event_code}
    else:
        return None

    psp_reference = as_text(item.get("pspReference"))
    occurred_at = _event_date(item.get("eventDate"))
    if not psp_reference or occurred_at is None:
        return None  # Adyen always sends both; without them the item cannot be placed
    amount = as_mapping(item.get("amount"))
    value = amount.get("value")
    original = as_text(item.get("originalReference"))
    extra = as_mapping(item.get("additionalData"))
    return PaymentSignal(
        provider=PROVIDER,
        kind=kind,
        event_id=event_id(item),
        event_type=event_code,
        occurred_at=occurred_at,
        payment_id=psp_reference,
        related_ids=(original,) if original else (),
        order_reference=as_text(item.get("merchantReference")),
        amount=value if isinstance(value, int) and not isinstance(value, bool) else None,
        currency=as_text(amount.get("currency")).upper(),
        buyer_email=as_text(extra.get("shopperEmail")).strip(),
        # Best effort: Adyen adds shopper fields to additionalData only when the merchant
        # enables them (https://docs.adyen.com/development-resources/webhooks/additional-settings),
        # under these names as far as we know; the email is what recovery needs.
        buyer_name=(
            as_text(extra.get("shopperName")).strip()
            or as_text(extra.get("cardHolderName")).strip()
        ),
        codes=codes,
    )


def _success(item: Mapping) -> str:
    return _field(item.get("success")).lower()


def _event_date(value: Any) -> datetime | None:
    """eventDate is ISO 8601 with an offset ("2021-07-17T13:42:40+01:00"), as UTC."""
    try:
        moment = datetime.fromisoformat(as_text(value))
    except ValueError:
        return None
    if moment.tzinfo is None:
        # Not what Adyen documents; the platform's clock is UTC, so read it as UTC rather
        # than as the server's local time.
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# --- The webhook edge ---------------------------------------------------------------------------


class Adapter(PaymentAdapter):
    """POST /webhooks/adyen/<public id>/: a batch of items, each signed in its own body; the
    answer is the body Adyen expects, whatever became of them."""

    kept_headers = ("Content-Type", "User-Agent")
    acknowledgement = ACCEPTED_RESPONSE

    def verify(self, body: bytes, headers: Mapping[str, str], secrets: list[str]) -> list[dict]:
        return verify(body, secrets)

    def events(self, storefront: Storefront, body: bytes, payload: list[dict]) -> list[EdgeEvent]:
        # Adyen batches items in one request: each is stored as its own event.
        return [
            EdgeEvent(
                storefront=storefront,
                event_id=event_id(item),
                event_type=str(item.get("eventCode", "")),
                body=json.dumps(item),
            )
            for item in payload
        ]

    def parse(self, event: Any) -> PaymentSignal | None:
        return parse(event) if isinstance(event, dict) else None

    def classify(self, codes: Mapping[str, str], kind: SignalKind) -> FailureReason:
        return tables.classify(codes, kind)
