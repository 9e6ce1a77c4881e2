"""A made-up connection, "relay", for tests/test_connections.py: a whole connection in one
package (verify, sign, a test event, processing), as a real one is, to prove that registering it
in settings.CONNECTIONS is all the rest of the system needs."""

import hashlib
import hmac
import json
import re
from collections.abc import Mapping

from django.db import transaction

from inbound import services as inbound
from inbound.edge import EdgeEvent, SignedRequest, WebhookAdapter
from inbound.errors import VerificationError, json_object
from inbound.models import InboundEvent
from storefront_settings.connections import Connection, Guide, SecretFormat

HEADER = "X-Relay-Signature"


def sign(body: bytes, secret: str) -> dict[str, str]:
    return {HEADER: hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}


class Adapter(WebhookAdapter):
    kept_headers = ("Content-Type", HEADER)

    def verify(self, body: bytes, headers: Mapping[str, str], secrets: list[str]) -> dict:
        received = headers.get(HEADER, "")
        if not any(hmac.compare_digest(sign(body, s)[HEADER], received) for s in secrets):
            raise VerificationError("no matching signature")
        return json_object(body)

    def events(self, storefront, body: bytes, payload: dict) -> list[EdgeEvent]:
        if payload.get("type") != "parcel.moved":
            return []
        return [EdgeEvent(storefront, str(payload["id"]), payload["type"], body.decode())]

    def process(self, *, event_id: int) -> str:
        with transaction.atomic():
            event = inbound.claim(event_id)
            if event is None:
                return "skipped"
            inbound.finish(event, status=InboundEvent.Status.PROCESSED)
            return "processed"


def test_event(storefront, secret: str, now: int) -> SignedRequest:
    body = json.dumps({"id": f"test-{now}", "type": "relay.test"}).encode()
    return SignedRequest(body, {"Content-Type": "application/json", **sign(body, secret)})


CONNECTION = Connection(
    key="relay",
    label="Relay",
    secret_format=SecretFormat(re.compile(r"relay_[a-z0-9]{12,}"), "expected 'relay_' and a key"),
    guide=Guide(where="Paste this URL in Relay.", events=("parcel.moved",), secret="Relay's key."),
    adapter=Adapter(),
    test_event=test_event,
)
