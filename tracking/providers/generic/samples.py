"""Generic-format events as a sender sends them, and signed as it signs them (webhooks.sign):
the one place that makes them, for the "send test event" button and the tests.

The format is ours (docs/generic-tracking-webhooks.md): it speaks the canonical status and
carrier values, so a step's status is written as it is. Ids are drawn from the caller's random
generator.
"""

import json
import random
import secrets
from collections.abc import Sequence
from datetime import UTC, date, datetime

from inbound.edge import SignedRequest
from storefront_settings.models import Storefront
from tracking.providers import Step
from tracking.providers.generic.webhooks import EVENT_TYPE, sign

HEADERS = {"Content-Type": "application/json"}


def signed(event: dict, secret: str, *, now: int) -> SignedRequest:
    """The request a sender makes for `event` (its `id` is the webhook id), signed with `secret`
    (`whsec_<base64>`) at `now` (Unix seconds)."""
    body = json.dumps(event).encode()
    headers = sign(body, secret, webhook_id=event["id"], timestamp=now)
    return SignedRequest(body, {**HEADERS, **headers})


def test_event(storefront: Storefront, secret: str, now: int) -> SignedRequest:
    """The connections page's test event: an event type the parser does not read. The edge checks
    the signature, answers `{"received": true, "ignored": true}` and stores nothing: an update
    for a made-up tracking number would sit among the real ones as "unknown tracking number"."""
    event = {
        "id": f"msg_aftersale_test_{secrets.token_hex(8)}",
        "type": "aftersale.test_event",
        "timestamp": datetime.fromtimestamp(now, tz=UTC).isoformat(),
        "data": {},
    }
    return signed(event, secret, now=now)


def shipment_update(
    rng: random.Random,
    *,
    tracking_number: str,
    carrier: str,
    steps: Sequence[Step],
    estimated_delivery: date | None = None,
    carrier_tracking_url: str | None = None,
) -> dict:
    """The `shipment.updated` event a sender posts for a parcel after its latest step: `carrier`
    a Carrier value, `steps` every step so far, oldest first."""
    return {
        "id": f"msg_{rng.getrandbits(128):032x}",
        "type": EVENT_TYPE,
        "timestamp": steps[-1].at.isoformat(),
        "data": {
            "tracking_number": tracking_number,
            "carrier": carrier,
            "status": steps[-1].status,
            "estimated_delivery_date": (
                estimated_delivery.isoformat() if estimated_delivery else None
            ),
            "carrier_tracking_url": carrier_tracking_url,
            "checkpoints": [
                {
                    "time": step.at.isoformat(),
                    "status": step.status,
                    "description": step.message,
                    "location": step.location,
                }
                for step in steps
            ],
        },
    }
