"""EasyPost tracker webhooks: verify the signature, and turn an event into a TrackingSignal.

Verification is EasyPost's own scheme, as its client libraries check it (easypost-python,
`easypost.util.validate_webhook`; the webhook secret is set per webhook,
https://docs.easypost.com/guides/webhooks-guide): the `X-Hmac-Signature` header is
`hmac-sha256-hex=<hex HMAC-SHA256 of the raw body>`, keyed with the webhook secret NFKD-normalised
and UTF-8 encoded. The scheme signs no timestamp, so there is no replay window to check: a replayed
event carries the same `evt_…` id and is stored once.

Parsing reads EasyPost's documented objects: the Event (https://docs.easypost.com/docs/events)
for `tracker.created` and `tracker.updated`, and the Tracker it carries in `result`
(https://docs.easypost.com/docs/trackers) with its TrackingDetails and TrackingLocations. Status
words go through statuses.py; EasyPost's carrier names map to our Carrier values where we know
the carrier, "" otherwise.
"""

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from inbound.errors import VerificationError, json_object
from inbound.payloads import as_date, as_mapping, as_text
from tracking.carriers import Carrier
from tracking.providers import TrackingAdapter, web_url
from tracking.providers.easypost import statuses
from tracking.signals import CheckpointData, TrackingSignal

PROVIDER = "easypost"
SIGNATURE_PREFIX = "hmac-sha256-hex="
EVENT_TYPES = frozenset({"tracker.created", "tracker.updated"})

# EasyPost's carrier names (a Tracker's `carrier`, https://docs.easypost.com/carriers), compared
# lower-cased with anything but letters and digits removed. Only carriers we know by name: any
# other gives "" and the shipment keeps the carrier it was created with.
CARRIERS: dict[str, str] = {
    "usps": Carrier.USPS,
    "ups": Carrier.UPS,
    "fedex": Carrier.FEDEX,
    "fedexsmartpost": Carrier.FEDEX,  # FedEx Ground Economy: tracked by FedEx
    "dhlexpress": Carrier.DHL,
    "dhlpaket": Carrier.DHL,
    "dhlecommercesolutions": Carrier.DHL,
    "dpd": Carrier.DPD,
    "dpduk": Carrier.DPD,
    "colissimo": Carrier.COLISSIMO,
    "chronopost": Carrier.CHRONOPOST,
    "gls": Carrier.GLS,
    "mondialrelay": Carrier.MONDIAL_RELAY,
}

_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")


# --- Signing and verification -------------------------------------------------------------------


def sign(body: bytes, secret: str) -> dict[str, str]:
    """The `X-Hmac-Signature` header EasyPost would send with `body`, signed with `secret`."""
    return {"X-Hmac-Signature": SIGNATURE_PREFIX + _mac(_key(secret), body).hex()}


def verify(payload: bytes, signature_header: str | None, secrets: list[str]) -> dict:
    """The event in `payload`, once its `X-Hmac-Signature` header is proven to come from EasyPost.

    Any of `secrets` may match: while a webhook secret is rotated, the old and the new are both
    active. Raises VerificationError with a short reason that names neither a secret nor a
    signature.
    """
    if not signature_header:
        raise VerificationError("missing X-Hmac-Signature header")
    keys = [_key(secret) for secret in secrets if secret and secret.strip()]
    if not keys:
        raise VerificationError("no webhook secret configured")
    header = signature_header.strip()
    digest = header.removeprefix(SIGNATURE_PREFIX)
    if digest == header or not _HEX_DIGEST.fullmatch(digest):
        raise VerificationError("malformed X-Hmac-Signature header")

    received = bytes.fromhex(digest)
    expected = (_mac(key, payload) for key in keys)
    if not any(hmac.compare_digest(mac, received) for mac in expected):
        raise VerificationError("no matching signature")

    event = json_object(payload)
    if not as_text(event.get("id")) or not as_text(event.get("description")):
        raise VerificationError("event has no id or description")
    return event


def _key(secret: str) -> bytes:
    # As EasyPost's libraries do: a secret typed with a composed "é" and one with "e" + U+0301
    # sign alike.
    return unicodedata.normalize("NFKD", secret).encode("utf-8")


def _mac(key: bytes, payload: bytes) -> bytes:
    """The HMAC-SHA256 of the raw body: one computation for sign and verify."""
    return hmac.new(key, payload, hashlib.sha256).digest()


# --- Parsing ------------------------------------------------------------------------------------


def parse(event: dict) -> TrackingSignal | None:
    """The signal in a (verified) EasyPost event; None for an event that is not about a tracker
    (batch, refund, insurance…) or carries no tracking code."""
    event_type = as_text(event.get("description"))
    tracker = as_mapping(event.get("result"))
    tracking_number = as_text(tracker.get("tracking_code")).strip()
    if event_type not in EVENT_TYPES or as_text(tracker.get("object")) != "Tracker":
        return None
    if not tracking_number or not as_text(event.get("id")):
        return None

    status = as_text(tracker.get("status"))
    detail = as_text(tracker.get("status_detail"))
    return TrackingSignal(
        provider=PROVIDER,
        event_id=as_text(event["id"]),
        event_type=event_type,
        tracking_number=tracking_number,
        carrier=carrier(as_text(tracker.get("carrier"))),
        status=statuses.normalise(status, detail),
        raw_status=status,
        raw_detail=detail,
        estimated_delivery=_estimated_delivery(tracker),
        carrier_tracking_url=web_url(as_text(tracker.get("public_url"))),
        checkpoints=_checkpoints(tracker.get("tracking_details")),
    )


def carrier(name: str) -> str:
    """Our Carrier value for an EasyPost carrier name, "" when we do not know that carrier."""
    return CARRIERS.get(re.sub(r"[^a-z0-9]", "", name.lower()), "")


def _estimated_delivery(tracker: Mapping) -> date | None:
    # The carrier's local date when EasyPost has it; else the date part of est_delivery_date as
    # written (converting that midnight-ish UTC value to another zone could shift the day).
    local = as_mapping(tracker.get("carrier_detail")).get("est_delivery_date_local")
    for value in (local, tracker.get("est_delivery_date")):
        if parsed := as_date(value):
            return parsed
    return None


def _checkpoints(details: Any) -> tuple[CheckpointData, ...]:
    """The tracking details as checkpoints, oldest first; a detail without a readable time is
    left out (it cannot be placed in the history)."""
    if not isinstance(details, list):
        return ()
    checkpoints = []
    for detail in details:
        if not isinstance(detail, Mapping) or not (when := _datetime(detail.get("datetime"))):
            continue
        status = as_text(detail.get("status"))
        status_detail = as_text(detail.get("status_detail"))
        checkpoints.append(
            CheckpointData(
                occurred_at=when,
                status=statuses.normalise(status, status_detail),
                raw_status=status,
                raw_detail=status_detail,
                description=as_text(detail.get("message")).strip()
                or as_text(detail.get("description")).strip(),
                location=_location(as_mapping(detail.get("tracking_location"))),
            )
        )
    return tuple(sorted(checkpoints, key=lambda checkpoint: checkpoint.occurred_at))


def _location(where: Mapping) -> str:
    """The scan's place as "City, STATE ZIP, COUNTRY", from the parts EasyPost has."""
    city, state, zip_code, country = (
        as_text(where.get(field)).strip() for field in ("city", "state", "zip", "country")
    )
    region = " ".join(part for part in (state, zip_code) if part)
    return ", ".join(part for part in (city, region, country) if part)


# --- Small readers: EasyPost fields are often null ----------------------------------------------


def _datetime(value: Any) -> datetime | None:
    """An aware datetime. EasyPost gives ISO 8601 with "Z" or the scan's local offset; a value
    without one is UTC ("When location information is incomplete, timestamps default to UTC",
    https://docs.easypost.com/docs/trackers)."""
    try:
        parsed = datetime.fromisoformat(as_text(value).strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# --- The webhook edge ---------------------------------------------------------------------------


class Adapter(TrackingAdapter):
    """POST /webhooks/easypost/<public id>/: signed in `X-Hmac-Signature`."""

    kept_headers = ("Content-Type", "User-Agent", "X-Hmac-Signature")

    def verify(self, body: bytes, headers: Mapping[str, str], secrets: list[str]) -> dict:
        return verify(body, headers.get("X-Hmac-Signature"), secrets)

    def parse(self, event: dict) -> TrackingSignal | None:
        return parse(event)

    def normalise(self, status: str, detail: str = "") -> str:
        return statuses.normalise(status, detail)
