"""EasyPost events as EasyPost sends them, and signed as EasyPost signs them (webhooks.sign): the
one place that makes them, for the "send test event" button, the demo (demo.events) and the
tests.

The objects follow EasyPost's documented shapes (the Event, https://docs.easypost.com/docs/events;
the Tracker with its TrackingDetails and TrackingLocations, https://docs.easypost.com/docs/trackers).
Ids are drawn from the caller's random generator, so a seeded demo is the same every time.
"""

import hashlib
import json
import random
import secrets
from collections.abc import Sequence
from datetime import UTC, date, datetime

from inbound.edge import SignedRequest
from storefront_settings.models import Storefront
from tracking.providers import Step
from tracking.providers.easypost.webhooks import sign
from tracking.statuses import ShipmentStatus as S

HEADERS = {"Content-Type": "application/json", "User-Agent": "EasyPost"}

# Each canonical status in EasyPost's words, (status, status_detail), which statuses.py reads
# back as that status. EasyPost has no "failed attempt" and no "pending": its parcels never take
# those steps.
WORDS: dict[str, tuple[str, str]] = {
    S.INFO_RECEIVED: ("pre_transit", "label_created"),
    S.IN_TRANSIT: ("in_transit", "arrived_at_facility"),
    S.OUT_FOR_DELIVERY: ("out_for_delivery", "out_for_delivery"),
    S.AVAILABLE_FOR_PICKUP: ("available_for_pickup", "arrived_at_pickup_location"),
    S.DELIVERED: ("delivered", "arrived_at_destination"),
    S.EXCEPTION: ("failure", "delivery_exception"),
    S.RETURNED: ("return_to_sender", "return"),
    S.EXPIRED: ("failure", "expired"),
}


def signed(event: dict, secret: str) -> SignedRequest:
    """The request EasyPost makes for `event`: compact UTF-8 JSON and the headers EasyPost sends,
    signed with `secret` (the scheme signs no timestamp)."""
    body = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return SignedRequest(body, {**HEADERS, **sign(body, secret)})


def test_event(storefront: Storefront, secret: str, now: int) -> SignedRequest:
    """The connections page's test event: an event type the parser does not read. The edge checks
    the signature, answers `{"received": true, "ignored": true}` and stores nothing: an update
    for a made-up tracking number would sit among the real ones as "unknown tracking number"."""
    event = {
        "id": f"evt_aftersale_test_{secrets.token_hex(8)}",
        "object": "Event",
        "description": "aftersale.test_event",
        "mode": "test",
        "created_at": datetime.fromtimestamp(now, tz=UTC).isoformat(),
        "result": {},
    }
    return signed(event, secret)


def tracker_event(
    rng: random.Random,
    *,
    tracking_code: str,
    carrier: str,
    steps: Sequence[Step],
    estimated_delivery: date | None = None,
    public_url: str | None = None,
    country: str = "FR",
) -> dict:
    """The `tracker.updated` event EasyPost sends for a parcel after its latest step.

    `carrier` is EasyPost's name for the carrier ("UPS", "DHLExpress"…); `steps`, every step so
    far, oldest first, each with a status WORDS can say; `country`, where the scans were made
    (ISO 3166 alpha-2)."""
    status, detail = WORDS[steps[-1].status]
    now = _time(steps[-1].at)
    estimate = f"{estimated_delivery.isoformat()}T00:00:00Z" if estimated_delivery else None
    tracker = {
        "id": f"trk_{hashlib.sha256(tracking_code.encode()).hexdigest()[:32]}",
        "object": "Tracker",
        "mode": "production",
        "tracking_code": tracking_code,
        "status": status,
        "status_detail": detail,
        "carrier": carrier,
        "est_delivery_date": estimate,
        "public_url": public_url,
        "created_at": _time(steps[0].at),
        "updated_at": now,
        "tracking_details": [_tracking_detail(step, carrier, country) for step in steps],
    }
    return {
        "object": "Event",
        "id": f"evt_{rng.getrandbits(128):032x}",
        "mode": "production",
        "description": "tracker.updated",
        "created_at": now,
        "updated_at": now,
        "result": tracker,
    }


def _tracking_detail(step: Step, carrier: str, country: str) -> dict:
    status, detail = WORDS[step.status]
    return {
        "object": "TrackingDetail",
        "message": step.message,
        "description": "",
        "status": status,
        "status_detail": detail,
        "datetime": _time(step.at),
        "source": carrier,
        "tracking_location": {
            "object": "TrackingLocation",
            "city": step.location,
            "state": None,
            "country": country,
            "zip": None,
        },
    }


def _time(at: datetime) -> str:
    # EasyPost writes UTC, to the second, with a "Z".
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
