"""Our own tracking webhook format, for carriers and shops that push their own updates.

The format is documented for senders in docs/generic-tracking-webhooks.md. It speaks our
vocabulary directly (ShipmentStatus and Carrier values), so there is nothing to interpret: a
body that does not follow it is refused at the edge (400, nothing stored) and the sender learns
at once, instead of an update being silently lost later.

Signing is Standard Webhooks (https://www.standardwebhooks.com/, spec:
https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md):
headers `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`, a
space-separated list of `v1,<base64 HMAC-SHA256>` over f"{id}.{timestamp}.{raw body}", keyed
with the base64-decoded secret after its `whsec_` prefix. Several signatures are allowed (the
sender rotating its secret); other versions (`v1a`, asymmetric) are ignored. The timestamp must be
within 300 seconds of our clock, either way. The check is ours (hmac, base64), not the
`standardwebhooks` library's: that one reads the clock itself, takes one secret, and lets a
malformed header escape as a ValueError.

The body carries the webhook id again as `id`, and verify checks the two agree: the edge stores
the raw body and the worker parses it later (or ops replay it) from the body alone, so the id
that de-duplicates must be in the body.
"""

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from inbound.errors import VerificationError, json_object
from inbound.payloads import as_text
from tracking.carriers import Carrier
from tracking.providers import TrackingAdapter, web_url
from tracking.providers.generic import statuses
from tracking.signals import CheckpointData, TrackingSignal

PROVIDER = "generic"
EVENT_TYPE = "shipment.updated"
DEFAULT_TOLERANCE = 300  # seconds, either way: the Standard Webhooks recommendation
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
MAX_ECHO = 40  # characters of a sender's bad value quoted back in a refusal

_CARRIERS = frozenset(Carrier.values)


# --- Signing and verification -------------------------------------------------------------------


def sign(body: bytes, secret: str, *, webhook_id: str, timestamp: int) -> dict[str, str]:
    """The Standard Webhooks headers a sender would send with `body` (whose `id` is
    `webhook_id`), signed with `secret` (`whsec_<base64>`) at `timestamp` (Unix seconds)."""
    # The key is read as verify reads it. An undecodable secret gives an empty key, which verify
    # never accepts: a test event then shows the endpoint refusing it, rather than crashing.
    key = _key(secret)
    signature = base64.b64encode(_mac(key, webhook_id, str(timestamp), body)).decode("ascii")
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": f"v1,{signature}",
    }


def verify(
    payload: bytes,
    headers: Mapping[str, str],
    secrets: list[str],
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> dict:
    """The event in `payload`, once its Standard Webhooks headers prove it was signed with one
    of `secrets` and it follows our documented format.

    `headers` are the request's, names in lower case. Any of `secrets` (`whsec_<base64>`) may
    match. The timestamp must be within `tolerance` seconds of `now` (default: the clock), past
    or future. A `shipment.updated` event must be well-formed throughout, with canonical
    statuses; another type passes (parse ignores it) so a sender can adopt new types before we
    read them. Raises VerificationError with a short reason that names neither a secret nor a
    signature.
    """
    webhook_id = _header(headers, "webhook-id")
    timestamp_text = _header(headers, "webhook-timestamp")
    signature_header = _header(headers, "webhook-signature")
    keys = [key for secret in secrets if (key := _key(secret))]
    if not keys:
        raise VerificationError("no webhook secret configured")
    if not timestamp_text.isascii() or not timestamp_text.isdigit():
        raise VerificationError("malformed webhook-timestamp header")
    signatures = _signatures(signature_header)

    expected = [_mac(key, webhook_id, timestamp_text, payload) for key in keys]
    if not any(hmac.compare_digest(mac, sig) for mac in expected for sig in signatures):
        raise VerificationError("no matching signature")
    # Checked after the signature: the timestamp is only worth trusting once it is known to be
    # signed (it is part of the signed text).
    current = time.time() if now is None else now
    if abs(current - int(timestamp_text)) > tolerance:
        raise VerificationError("timestamp outside the tolerance")

    event = json_object(payload)
    if as_text(event.get("id")) != webhook_id:
        raise VerificationError("body id does not match webhook-id")
    if not as_text(event.get("type")).strip():
        raise VerificationError("event has no type")
    if event["type"] == EVENT_TYPE:
        _read(event)  # raises on anything outside the documented format
    return event


def _header(headers: Mapping[str, str], name: str) -> str:
    value = (headers.get(name) or "").strip()
    if not value:
        raise VerificationError(f"missing {name} header")
    return value


def _key(secret: str) -> bytes:
    """The HMAC key of a `whsec_<base64>` secret; b"" for a blank or undecodable one."""
    encoded = (secret or "").strip().removeprefix(SECRET_PREFIX)
    # Unpadded base64 is common in whsec_ secrets; the reference libraries accept it too.
    encoded += "=" * (-len(encoded) % 4)
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return b""


def _mac(key: bytes, webhook_id: str, timestamp: str, payload: bytes) -> bytes:
    """The HMAC-SHA256 over f"{id}.{timestamp}.{body}": one computation for sign and verify."""
    return hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + payload, hashlib.sha256).digest()


def _signatures(header: str) -> list[bytes]:
    """The `v1` signatures of the header; other versions are skipped, as the spec asks."""
    signatures = []
    for item in header.split():
        version, sep, encoded = item.partition(",")
        if not sep or version != "v1":
            continue
        try:
            signatures.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue  # one garbled entry must not hide a good one beside it
    if not signatures:
        raise VerificationError("malformed webhook-signature header")
    return signatures


# --- Parsing ------------------------------------------------------------------------------------


def parse(event: dict) -> TrackingSignal | None:
    """The signal in a (verified) event; None for another type than `shipment.updated` (or a
    body that is not in our format, which verify has already refused)."""
    if event.get("type") != EVENT_TYPE:
        return None
    try:
        return _read(event)
    except VerificationError:
        return None


def _read(event: Mapping) -> TrackingSignal:
    """The signal of a `shipment.updated` event; VerificationError on anything undocumented.

    One reader for verify (which refuses what it cannot read) and parse, so they cannot drift.
    """
    data = event.get("data")
    if not isinstance(data, Mapping):
        raise VerificationError("event has no data object")
    tracking_number = as_text(data.get("tracking_number")).strip()
    if not tracking_number:
        raise VerificationError("data has no tracking_number")
    raw_status = as_text(data.get("status"))
    return TrackingSignal(
        provider=PROVIDER,
        event_id=as_text(event.get("id")),
        event_type=EVENT_TYPE,
        tracking_number=tracking_number,
        carrier=_carrier(data.get("carrier")),
        status=_status(data.get("status"), "status"),
        raw_status=raw_status,
        estimated_delivery=_estimated_delivery(data.get("estimated_delivery_date")),
        carrier_tracking_url=_url(data.get("carrier_tracking_url")),
        checkpoints=_checkpoints(data.get("checkpoints")),
    )


def _status(value: Any, field: str) -> str:
    status = statuses.normalise(as_text(value))
    if not status:
        raise VerificationError(f"unknown {field} {_echo(value)}")
    return status


def _carrier(value: Any) -> str:
    if value is None or value == "":
        return ""
    carrier = as_text(value).strip().lower()
    if carrier not in _CARRIERS:
        raise VerificationError(f"unknown carrier {_echo(value)}")
    return carrier


def _estimated_delivery(value: Any) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(as_text(value))
    except ValueError:
        raise VerificationError("estimated_delivery_date is not YYYY-MM-DD") from None


def _url(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise VerificationError("carrier_tracking_url is not a string")
    # Shown to buyers as a link: only web addresses, never javascript: or data: URLs. Refused
    # here (the sender documents its own payload); other sources' links are dropped instead.
    url = web_url(value)
    if value.strip() and not url:
        raise VerificationError("carrier_tracking_url is not an http(s) URL")
    return url


def _checkpoints(value: Any) -> tuple[CheckpointData, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise VerificationError("checkpoints is not a list")
    checkpoints = []
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise VerificationError(f"checkpoints[{index}] is not an object")
        raw_status = as_text(item.get("status"))
        checkpoints.append(
            CheckpointData(
                occurred_at=_time(item.get("time"), index),
                status=_status(item.get("status"), f"checkpoints[{index}].status"),
                raw_status=raw_status,
                description=as_text(item.get("description")).strip(),
                location=as_text(item.get("location")).strip(),
            )
        )
    return tuple(sorted(checkpoints, key=lambda checkpoint: checkpoint.occurred_at))


def _time(value: Any, index: int) -> datetime:
    try:
        when = datetime.fromisoformat(as_text(value).strip())
    except ValueError:
        raise VerificationError(f"checkpoints[{index}].time is not ISO 8601") from None
    if when.tzinfo is None:
        # A local time without its offset names no instant; we do not guess the zone.
        raise VerificationError(f"checkpoints[{index}].time has no UTC offset")
    return when


def _echo(value: Any) -> str:
    """A sender's bad value, quoted and cut short, for the refusal it caused."""
    return repr(as_text(value)[:MAX_ECHO]) if isinstance(value, str) else type(value).__name__


# --- The webhook edge ---------------------------------------------------------------------------


class Adapter(TrackingAdapter):
    """POST /webhooks/generic/<public id>/: signed with the Standard Webhooks headers."""

    kept_headers = (
        "Content-Type",
        "User-Agent",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    )

    def verify(self, body: bytes, headers: Mapping[str, str], secrets: list[str]) -> dict:
        return verify(body, {name.lower(): value for name, value in headers.items()}, secrets)

    def parse(self, event: dict) -> TrackingSignal | None:
        return parse(event)

    def normalise(self, status: str, detail: str = "") -> str:
        return statuses.normalise(status, detail)
