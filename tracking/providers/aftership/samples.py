"""AfterShip events as the sender sends them, signed as it signs them (webhooks.sign): the
one place that makes them, for the "send test event" button and the tests."""

import json
import secrets

from inbound.edge import SignedRequest
from storefront_settings.models import Storefront
from tracking.providers.aftership.webhooks import sign


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
    body = json.dumps(event).encode()
    return SignedRequest(body, {"Content-Type": "application/json", **sign(body, secret)})
