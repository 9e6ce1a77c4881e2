"""AfterShip tracking webhooks: verify the signature, and turn an event into a TrackingSignal.

Verification follows https://www.aftership.com/docs/tracking/webhook/webhook-signature: the
`aftership-hmac-sha256` header is the base64 HMAC-SHA256 of the raw body, keyed with the account's
webhook secret (Settings > Webhooks). Nothing timestamped is signed, so there is no replay window
to check: a replayed event carries the same `event_id` and is stored once.

Parsing reads https://www.aftership.com/docs/tracking/webhook/webhook-specifications: the body
is `{ts, event, event_id, is_tracking_first_tag, msg}` where `msg` is the Tracking object
(https://www.aftership.com/docs/tracking/model/tracking) with its checkpoints
(https://www.aftership.com/docs/tracking/model/checkpoint). `tracking_update` (a new delivery
status) and `edd_revise` (a new estimated delivery date) are read; `tracking_pending_time` and
anything else are not ours. Tags and subtags go through statuses.py; AfterShip's
courier slugs map to our Carrier values where we know the carrier, "" otherwise.
"""

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from inbound.errors import VerificationError, json_object
from inbound.payloads import as_date, as_list, as_mapping, as_text
from tracking.carriers import Carrier
from tracking.providers import TrackingAdapter, web_url
from tracking.providers.aftership import statuses
from tracking.signals import CheckpointData, TrackingSignal

PROVIDER = "aftership"
EVENT_TYPES = frozenset({"tracking_update", "edd_revise"})

# AfterShip courier slugs (https://www.aftership.com/couriers) of the carriers we know by name.
# Any other slug gives "" and the shipment keeps the carrier it was created with.
CARRIERS: dict[str, str] = {
    "la-poste-colissimo": Carrier.COLISSIMO,
    "chronopost-france": Carrier.CHRONOPOST,
    "dhl": Carrier.DHL,  # DHL Express
    "dhl-germany": Carrier.DHL,  # Deutsche Post DHL (DHL Paket)
    "ups": Carrier.UPS,
    "fedex": Carrier.FEDEX,
    "usps": Carrier.USPS,
    "dpd": Carrier.DPD,
    "dpd-fr": Carrier.DPD,
    "dpd-de": Carrier.DPD,
    "dpd-uk": Carrier.DPD,
    "gls": Carrier.GLS,
    "mondialrelay": Carrier.MONDIAL_RELAY,
}


# --- Signing and verification -------------------------------------------------------------------


def sign(body: bytes, secret: str) -> dict[str, str]:
    """The `aftership-hmac-sha256` header AfterShip would send with `body`, signed with `secret`."""
    signature = base64.b64encode(_mac(_key(secret), body)).decode("ascii")
    return {"aftership-hmac-sha256": signature}


def verify(payload: bytes, signature_header: str | None, secrets: list[str]) -> dict:
    """The event in `payload`, once its `aftership-hmac-sha256` header is proven to come from
    AfterShip.

    Any of `secrets` may match: while the webhook secret is rotated, the old and the new are both
    active. Raises VerificationError with a short reason that names neither a secret nor a
    signature.
    """
    if not signature_header:
        raise VerificationError("missing aftership-hmac-sha256 header")
    keys = [_key(secret) for secret in secrets if secret and secret.strip()]
    if not keys:
        raise VerificationError("no webhook secret configured")
    try:
        received = base64.b64decode(signature_header.strip(), validate=True)
    except (binascii.Error, ValueError):
        received = b""
    if len(received) != hashlib.sha256().digest_size:
        raise VerificationError("malformed aftership-hmac-sha256 header")

    expected = (_mac(key, payload) for key in keys)
    if not any(hmac.compare_digest(mac, received) for mac in expected):
        raise VerificationError("no matching signature")

    event = json_object(payload)
    if not isinstance(event.get("msg"), dict):
        raise VerificationError("event has no msg object")
    return event


def _key(secret: str) -> bytes:
    return secret.encode("utf-8")


def _mac(key: bytes, payload: bytes) -> bytes:
    """The HMAC-SHA256 of the raw body: one computation for sign and verify."""
    return hmac.new(key, payload, hashlib.sha256).digest()


# --- Parsing ------------------------------------------------------------------------------------


def event_id(event: Mapping) -> str:
    """The event's identity for de-duplication (the edge stores by it; parse reports it).

    AfterShip sends `event_id` (a UUID, the same on every retry of one event). A body without it
    (older webhook versions, or a payload replayed by hand) gets a stable hash of what makes the
    update new: the same update delivered twice hashes alike and is stored once, while a new
    checkpoint, tag or delivery estimate gives a new id and is not mistaken for a duplicate.
    """
    if given := as_text(event.get("event_id")).strip():
        return given
    msg = as_mapping(event.get("msg"))
    checkpoints = [as_mapping(item) for item in as_list(msg.get("checkpoints"))]
    latest = max((as_text(item.get("checkpoint_time")) for item in checkpoints), default="")
    estimate = _estimated_delivery(msg)
    parts = [
        as_text(event.get("event")),
        as_text(msg.get("slug")),
        as_text(msg.get("tracking_number")),
        as_text(msg.get("tag")),
        as_text(msg.get("subtag")),
        latest,
        estimate.isoformat() if estimate else "",
    ]
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return f"sha256:{digest[:40]}"


def parse(event: dict) -> TrackingSignal | None:
    """The signal in a (verified) AfterShip event; None for an event we do not act on or one
    without a tracking number."""
    event_type = as_text(event.get("event"))
    msg = as_mapping(event.get("msg"))
    tracking_number = as_text(msg.get("tracking_number")).strip()
    if event_type not in EVENT_TYPES or not tracking_number:
        return None

    tag = as_text(msg.get("tag"))
    subtag = as_text(msg.get("subtag"))
    return TrackingSignal(
        provider=PROVIDER,
        event_id=event_id(event),
        event_type=event_type,
        tracking_number=tracking_number,
        carrier=carrier(as_text(msg.get("slug"))),
        status=statuses.normalise(tag, subtag),
        raw_status=tag,
        raw_detail=subtag,
        estimated_delivery=_estimated_delivery(msg),
        carrier_tracking_url=web_url(as_text(msg.get("courier_tracking_link"))),
        checkpoints=_checkpoints(msg.get("checkpoints")),
    )


def carrier(slug: str) -> str:
    """Our Carrier value for an AfterShip courier slug, "" when we do not know that carrier."""
    return CARRIERS.get(slug.strip().lower(), "")


def _estimated_delivery(msg: Mapping) -> date | None:
    """The latest estimate AfterShip has. `latest_estimated_delivery` is its pick among the
    carrier's, its own and the merchant's estimates; for a range, the end of the range (a parcel
    is late only once that day has passed). `expected_delivery` is the older field. Dates are
    taken as written (the destination's local date), never shifted between zones."""
    latest = as_mapping(msg.get("latest_estimated_delivery"))
    candidates = (
        latest.get("datetime"),
        latest.get("datetime_max"),
        msg.get("expected_delivery"),
        as_mapping(msg.get("courier_estimated_delivery_date")).get("estimated_delivery_date"),
    )
    for value in candidates:
        if parsed := as_date(value):
            return parsed
    return None


def _checkpoints(raw: Any) -> tuple[CheckpointData, ...]:
    """The checkpoints, oldest first; one without a placeable time is left out."""
    checkpoints = []
    for item in as_list(raw):
        checkpoint = as_mapping(item)
        when = _checkpoint_time(checkpoint)
        if when is None:
            continue
        tag = as_text(checkpoint.get("tag"))
        subtag = as_text(checkpoint.get("subtag"))
        checkpoints.append(
            CheckpointData(
                occurred_at=when,
                status=statuses.normalise(tag, subtag),
                raw_status=tag,
                raw_detail=subtag,
                description=as_text(checkpoint.get("message")).strip(),
                location=_location(checkpoint),
            )
        )
    return tuple(sorted(checkpoints, key=lambda checkpoint: checkpoint.occurred_at))


def _checkpoint_time(checkpoint: Mapping) -> datetime | None:
    # checkpoint_time is the carrier's time at the checkpoint's place; AfterShip passes on what
    # the carrier gives, which may lack an offset (or be a bare date). A time without an offset
    # names no instant, so AfterShip's own created_at (always UTC, "when the checkpoint was
    # recorded", a little later) stands in rather than a guessed zone.
    for value in (checkpoint.get("checkpoint_time"), checkpoint.get("created_at")):
        parsed = _aware(value)
        if parsed is not None:
            return parsed
    return None


def _location(checkpoint: Mapping) -> str:
    if location := as_text(checkpoint.get("location")).strip():
        return location
    parts = (as_text(checkpoint.get(field)).strip() for field in ("city", "state", "country_name"))
    return ", ".join(part for part in parts if part)


# --- Small readers: AfterShip fields are often null ---------------------------------------------


def _aware(value: Any) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(as_text(value).strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


# --- The webhook edge ---------------------------------------------------------------------------


class Adapter(TrackingAdapter):
    """POST /webhooks/aftership/<public id>/: signed in `aftership-hmac-sha256`."""

    kept_headers = ("Content-Type", "User-Agent", "aftership-hmac-sha256")

    def verify(self, body: bytes, headers: Mapping[str, str], secrets: list[str]) -> dict:
        return verify(body, headers.get("aftership-hmac-sha256"), secrets)

    def parse(self, event: dict) -> TrackingSignal | None:
        return parse(event)

    def normalise(self, status: str, detail: str = "") -> str:
        return statuses.normalise(status, detail)
