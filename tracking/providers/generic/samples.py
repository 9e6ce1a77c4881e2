"""Generic-format events as the sender sends them, signed as it signs them (webhooks.sign): the
one place that makes them, for the "send test event" button and the tests."""

import json
import secrets
from datetime import UTC, datetime

from inbound.edge import SignedRequest
from storefront_settings.models import Storefront
from tracking.providers.generic.webhooks import sign


def test_event(storefront: Storefront, secret: str, now: int) -> SignedRequest:
    """The connections page's test event: an event type the parser does not read. The edge checks
    the signature, answers `{"received": true, "ignored": true}` and stores nothing: an update
    for a made-up tracking number would sit among the real ones as "unknown tracking number"."""
    webhook_id = f"msg_aftersale_test_{secrets.token_hex(8)}"
    event = {
        "id": webhook_id,
        "type": "aftersale.test_event",
        "timestamp": datetime.fromtimestamp(now, tz=UTC).isoformat(),
        "data": {},
    }
    body = json.dumps(event).encode()
    headers = sign(body, secret, webhook_id=webhook_id, timestamp=now)
    return SignedRequest(body, {"Content-Type": "application/json", **headers})
