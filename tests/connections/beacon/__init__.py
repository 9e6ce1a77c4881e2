"""A made-up fetch-on-notify connection, "beacon", for tests/test_notified.py: its notification
is `{"id": "bc_…"}`, unsigned; the worker fetches GET {BASE}/objects/<id> with the storefront's
key, and only that answer counts. Its domain part (a WebhookAdapter's process(), after
NotifiedAdapter in the bases) records the fetched event as processed, as a payment or tracking
adapter would apply it."""

import re
from collections.abc import Mapping

from django.db import transaction

from inbound import remote
from inbound import services as inbound
from inbound.edge import SignedRequest, WebhookAdapter
from inbound.errors import VerificationError, json_object
from inbound.models import InboundEvent
from inbound.notified import NotifiedAdapter
from storefront_settings.connections import Connection, Guide, SecretFormat

BASE = "https://beacon.test"
TEST_ID = "bc_test"
_ID = re.compile(r"bc_[A-Za-z0-9]+")


class Processing(WebhookAdapter):
    """The domain's part: what a PaymentAdapter does with the fetched event, reduced to marking
    it processed."""

    def process(self, *, event_id: int) -> str:
        with transaction.atomic():
            event = inbound.claim(event_id)
            if event is None:
                return "skipped"
            inbound.finish(event, status=InboundEvent.Status.PROCESSED)
            return "processed"


class Adapter(NotifiedAdapter, Processing):
    service = "Beacon"
    test_id = TEST_ID

    def notified_id(self, body: bytes, headers: Mapping[str, str]) -> str:
        found = json_object(body).get("id")
        if not isinstance(found, str) or not _ID.fullmatch(found):
            raise VerificationError("no object id")
        return found

    def fetch(self, object_id: str, key: str) -> dict:
        return remote.call(
            "Beacon", "GET", f"{BASE}/objects/{object_id}", headers={"Authorization": key}
        )

    def state(self, fetched: dict) -> str:
        return str(fetched.get("status", ""))


def test_event(storefront, secret: str, now: int) -> SignedRequest:
    return SignedRequest(b'{"id": "bc_test"}', {"Content-Type": "application/json"})


CONNECTION = Connection(
    key="beacon",
    label="Beacon",
    secret_format=SecretFormat(re.compile(r"bk_[a-z0-9]{8,}"), "expected 'bk_' and a key"),
    guide=Guide(
        where="Beacon calls the URL its objects name.",
        events=(),
        secret="Beacon's API key.",
        test="Make an object in Beacon's test mode.",
    ),
    adapter=Adapter(),
    test_event=test_event,
)
