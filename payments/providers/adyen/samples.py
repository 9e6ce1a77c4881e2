"""Adyen notifications as Adyen sends them, each item signed as Adyen signs it (webhooks.sign):
the one place that makes them, for the "send test event" button and the tests."""

import json
import secrets
from datetime import UTC, datetime

from inbound.edge import SignedRequest
from payments.providers.adyen.webhooks import sign
from storefront_settings.models import Storefront

HEADERS = {"Content-Type": "application/json"}


def signed(items: list[dict], secret: str) -> SignedRequest:
    """The request Adyen makes for these NotificationRequestItems, each signed with `secret`
    (a hex HMAC key)."""
    body = {
        "live": "false",
        "notificationItems": [{"NotificationRequestItem": sign(item, secret)} for item in items],
    }
    return SignedRequest(json.dumps(body).encode(), dict(HEADERS))


def test_event(storefront: Storefront, secret: str, now: int) -> SignedRequest:
    """The connections page's test event: a `REPORT_AVAILABLE` item (a real Adyen event code, "a
    report is ready to download"), pspReference `aftersale-test-…`. Stored like every verified
    item; webhooks.parse reads only AUTHORISATION, CANCELLATION and OFFER_CLOSED, so the worker
    marks it ignored: it changes no payment and emails nobody."""
    item = {
        "eventCode": "REPORT_AVAILABLE",
        "success": "true",
        "pspReference": f"aftersale-test-{secrets.token_hex(8)}",
        "merchantAccountCode": "AftersaleTest",
        "merchantReference": "aftersale-test",
        "amount": {"value": 0, "currency": storefront.currency},
        "eventDate": datetime.fromtimestamp(now, tz=UTC).isoformat(),
        "reason": "Aftersale test event",
        "additionalData": {},
    }
    return signed([item], secret)
