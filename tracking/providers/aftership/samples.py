"""AfterShip events as AfterShip sends them, and signed as AfterShip signs them (webhooks.sign):
the one place that makes them, for the "send test event" button, the demo (demo.events) and the
tests.

The event follows AfterShip's webhook specification
(https://www.aftership.com/docs/tracking/webhook/webhook-specifications), its `msg` the Tracking
object (https://www.aftership.com/docs/tracking/model/tracking) with its checkpoints
(https://www.aftership.com/docs/tracking/model/checkpoint). Ids are drawn from the caller's
random generator, so a seeded demo is the same every time.
"""

import hashlib
import json
import random
import secrets
import uuid
from collections.abc import Sequence
from datetime import UTC, date, tzinfo
from zoneinfo import ZoneInfo

from inbound.edge import SignedRequest
from storefront_settings.models import Storefront
from tracking.providers import Step
from tracking.providers.aftership.webhooks import sign
from tracking.statuses import ShipmentStatus as S

HEADERS = {"Content-Type": "application/json", "User-Agent": "AfterShip"}
PARIS = ZoneInfo("Europe/Paris")

# Each canonical status in AfterShip's words, (tag, subtag), which statuses.py reads back as that
# status.
WORDS: dict[str, tuple[str, str]] = {
    S.PENDING: ("Pending", "Pending_001"),
    S.INFO_RECEIVED: ("InfoReceived", "InfoReceived_001"),
    S.IN_TRANSIT: ("InTransit", "InTransit_001"),
    S.OUT_FOR_DELIVERY: ("OutForDelivery", "OutForDelivery_001"),
    S.FAILED_ATTEMPT: ("AttemptFail", "AttemptFail_001"),
    S.AVAILABLE_FOR_PICKUP: ("AvailableForPickup", "AvailableForPickup_001"),
    S.DELIVERED: ("Delivered", "Delivered_001"),
    S.EXCEPTION: ("Exception", "Exception_004"),
    S.RETURNED: ("Exception", "Exception_011"),
    S.EXPIRED: ("Expired", "Expired_001"),
}


def signed(event: dict, secret: str) -> SignedRequest:
    """The request AfterShip makes for `event`: compact UTF-8 JSON and the headers AfterShip
    sends, signed with `secret` (the scheme signs no timestamp)."""
    body = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return SignedRequest(body, {**HEADERS, **sign(body, secret)})


def test_event(storefront: Storefront, secret: str, now: int) -> SignedRequest:
    """The connections page's test event: an event type the parser does not read. The edge checks
    the signature, answers `{"received": true, "ignored": true}` and stores nothing: an update
    for a made-up tracking number would sit among the real ones as "unknown tracking number"."""
    event = {
        "event": "aftersale_test_event",
        "event_id": f"aftersale-test-{secrets.token_hex(8)}",
        "ts": now,
        "msg": {},
    }
    return signed(event, secret)


def tracking_update(
    rng: random.Random,
    *,
    tracking_number: str,
    slug: str,
    steps: Sequence[Step],
    order_id: str = "",
    estimated_delivery: date | None = None,
    tracking_link: str | None = None,
    country: tuple[str, str] = ("FRA", "France"),
    zone: tzinfo = PARIS,
) -> dict:
    """The `tracking_update` event AfterShip sends for a parcel after its latest step.

    `slug` is AfterShip's courier slug ("la-poste-colissimo"…); `steps`, every step so far,
    oldest first, each with a status WORDS can say; `country`, where the parcel travels (ISO
    3166 alpha-3 and name), `zone` the carrier's local time there."""
    tag, subtag = WORDS[steps[-1].status]
    return {
        "ts": int(steps[-1].at.timestamp()),
        "event": "tracking_update",
        "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "is_tracking_first_tag": len(steps) == 1,
        "msg": {
            "id": hashlib.sha256(tracking_number.encode()).hexdigest()[:24],
            "tracking_number": tracking_number,
            "title": order_id,
            "order_id": order_id,
            "slug": slug,
            "tag": tag,
            "subtag": subtag,
            "origin_country_iso3": country[0],
            "destination_country_iso3": country[0],
            "expected_delivery": estimated_delivery.isoformat() if estimated_delivery else None,
            "courier_tracking_link": tracking_link,
            "checkpoints": [_checkpoint(step, slug, country, zone) for step in steps],
        },
    }


def _checkpoint(step: Step, slug: str, country: tuple[str, str], zone: tzinfo) -> dict:
    tag, subtag = WORDS[step.status]
    return {
        "slug": slug,
        "location": step.location,
        "country_name": country[1],
        "country_iso3": country[0],
        "message": step.message,
        "tag": tag,
        "subtag": subtag,
        # The carrier's local time, as AfterShip passes it on; created_at is AfterShip's own
        # record of it, in UTC.
        "checkpoint_time": step.at.astimezone(zone).isoformat(),
        "created_at": step.at.astimezone(UTC).isoformat(),
    }
