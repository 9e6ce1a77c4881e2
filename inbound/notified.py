"""Sources whose notification is only a hint: it names an object (a payment), carries no
signature and no event id, and the worker fetches the object from the source's API with the
storefront's key. Only the fetched copy is trusted (PayPlug, Mollie).

The two steps, each stored:

1. The edge stores each notification as it came, as an event of type NOTIFICATION whose id is
   the object's id plus a unique suffix: two notifications of one object may announce two
   states, so neither may be dropped as the other's duplicate. It refuses (400) a body that
   names no object in the source's id format, and a storefront with no key: nothing could be
   fetched. The source's test id is answered and stored nowhere (the "send a test event"
   button proves the URL answers; the fetch needs a payment made in the source's test mode).
   More than settings.UNVERIFIED_WEBHOOKS_PER_MINUTE notifications a minute for one storefront
   and source are refused with a 429 (inbound.edge.check_rate): a flood of made-up ids cannot
   fill the table nor spend the merchant's API quota.
2. The worker fetches the object (inbound.remote: timeout, retries with backoff), then stores
   what it fetched as the event proper, whose id is the object's id plus the state fetched: a
   payment that fails and is later paid is two events, a repeated notification of one state is
   one (the INSERT's ON CONFLICT). That event is applied at once by the domain's adapter, like
   any other stored event (idempotent, in any order), in the transaction that stores it and
   finishes the notification: all of it or none. Its body keeps the fetched object and when the
   notification came, for replays.

A notification naming an object the source does not know, for any of the storefront's keys, is
REJECTED (a forgery, or a test payment posted to a live key's endpoint): nothing is processed.
"""

import json
import uuid
from collections.abc import Mapping
from typing import Any

from django.db import transaction

from inbound import remote, services
from inbound.edge import EdgeEvent, WebhookAdapter, check_rate
from inbound.errors import VerificationError
from inbound.models import InboundEvent
from storefront_settings.models import Storefront
from storefront_settings.selectors import active_provider_secrets

# The event type of a stored notification (step 1); a fetched event's type is its state.
NOTIFICATION = "notification"

Status = InboundEvent.Status


class NoKey(ValueError):
    """The storefront revoked its last key after the notification came: nothing can be
    fetched until it adds one (the event fails for ops, who replay it then)."""


class NotifiedAdapter(WebhookAdapter):
    """The edge and the worker for a fetch-on-notify source. A subclass names the `service`
    and its `test_id`, and implements notified_id(), fetch() and state(); the domain's adapter,
    after this one in the subclass's bases, processes what was fetched (its process())."""

    service: str  # the source's name in errors and logs ("Mollie")
    # The object id the connection's test event names: answered, never stored or fetched.
    test_id: str

    def notified_id(self, body: bytes, headers: Mapping[str, str]) -> str:
        """The object the notification names; VerificationError (400) for a body that names
        none in the source's id format."""
        raise NotImplementedError

    def fetch(self, object_id: str, key: str) -> dict:
        """The object, fetched with `key`, as the body of the event to store (the object and
        whatever else processing needs, e.g. its customer); raises inbound.remote's errors."""
        raise NotImplementedError

    def state(self, fetched: dict) -> str:
        """The fetched object's state, as much of it as makes it a new event ("paid",
        "failed"…)."""
        raise NotImplementedError

    # --- The edge ---------------------------------------------------------------------------

    def verify(self, body: bytes, headers: Mapping[str, str], secrets: list[str]) -> str:
        if not secrets:
            raise VerificationError("no API key configured")
        return self.notified_id(body, headers)

    def events(self, storefront: Storefront, body: bytes, payload: str) -> list[EdgeEvent]:
        if payload == self.test_id:
            return []
        check_rate(storefront, self.service)
        return [
            EdgeEvent(
                storefront=storefront,
                event_id=f"{payload}@{uuid.uuid4().hex}",
                event_type=NOTIFICATION,
                body=body.decode("utf-8", "replace"),
            )
        ]

    # --- The worker -------------------------------------------------------------------------

    def process(self, *, event_id: int) -> str:
        event = (
            InboundEvent.unscoped.select_related("storefront")
            .filter(pk=event_id, status=Status.RECEIVED)
            .first()
        )
        if event is None:
            return "skipped"  # processed already
        if event.event_type != NOTIFICATION:
            return super().process(event_id=event_id)  # fetched earlier: the domain's part
        object_id = event.event_id.rpartition("@")[0]
        try:
            fetched = self._fetch(event.storefront, event.provider, object_id)
        except remote.NotFound:
            services.finish(
                event, status=Status.REJECTED, error=f"{self.service} has no {object_id}"
            )
            return "rejected"
        body = {"notified_at": event.received_at.isoformat(), "object": fetched}
        state = self.state(fetched)
        # One transaction: the fetched event is stored, the notification finished and the event
        # applied together, or not at all (the notification is then retried, fetched again).
        with transaction.atomic():
            stored = services.store(
                storefront=event.storefront,
                provider=event.provider,
                event_id=f"{object_id}:{state}",
                event_type=state[:100],
                body=json.dumps(body),
                headers={},
            )
            if stored is None:
                services.finish(
                    event, status=Status.IGNORED, error="this state was received before"
                )
                return "duplicate"
            services.finish(event, status=Status.PROCESSED)
            return super().process(event_id=stored.pk)

    def _fetch(self, storefront: Storefront, provider: str, object_id: str) -> Any:
        """The object, fetched with the newest key that can see it: during a rotation, or with
        a test and a live key side by side, another key may be the one that knows it."""
        keys = active_provider_secrets(storefront=storefront, provider=provider)
        if not keys:
            raise NoKey(f"no {self.service} API key to fetch {object_id} with")
        refusal: remote.Refused | None = None
        for key in keys:
            try:
                return self.fetch(object_id, key)
            except remote.Refused as error:
                if error.status not in (401, 403, 404):
                    raise
                refusal = error if refusal is None or error.status == 404 else refusal
        # Every key was refused or found nothing: a 404 if any key could look, which is the
        # answer about the object; a key problem otherwise (permanent, for ops).
        raise refusal
