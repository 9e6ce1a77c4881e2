"""EasyPost events as the sender sends them, signed as it signs them (webhooks.sign): the
one place that makes them, for the "send test event" button and the tests."""

import json
import secrets
from datetime import UTC, datetime

from inbound.edge import SignedRequest
from storefront_settings.models import Storefront
from tracking.providers.easypost.webhooks import sign


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
    body = json.dumps(event).encode()
    return SignedRequest(body, {"Content-Type": "application/json", **sign(body, secret)})
