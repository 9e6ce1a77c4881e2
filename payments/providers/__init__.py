"""One package per payment provider (payments/providers/<provider>/, registered in
settings.CONNECTIONS): its adapter verifies and parses the provider's webhooks into
PaymentSignals, its codes.py maps the provider's failure codes to our reasons, its samples.py
builds the events the test button, the demo and the benchmarks send. Parsing only: no decisions
(those are in payments.services).

PaymentAdapter is what they share: the worker's processing of a stored event, and the hooks a
provider fills in."""

import json
from collections.abc import Mapping
from typing import Any

from inbound.edge import WebhookAdapter
from inbound.notified import NotifiedAdapter
from payments.reasons import FailureReason
from payments.services import ingest
from payments.signals import PaymentSignal, SignalKind


class PaymentAdapter(WebhookAdapter):
    """A payment provider's adapter: the edge's verify() and events(), and for the worker the
    signals in a stored body and the classification of their codes."""

    def parse(self, event: Any) -> PaymentSignal | None:
        """The signal in one stored event (JSON-decoded); None for one we do not act on."""
        raise NotImplementedError

    def classify(self, codes: Mapping[str, str], kind: SignalKind) -> FailureReason:
        """The canonical reason for the provider's raw codes (its codes.py)."""
        raise NotImplementedError

    def signals(self, body: str) -> list[PaymentSignal]:
        """The signals in a stored event's raw body (empty when the event is of no interest)."""
        signal = self.parse(json.loads(body))
        return [signal] if signal is not None else []

    def process(self, *, event_id: int) -> str:
        return ingest.process_inbound_event(event_id=event_id)


class NotifiedPaymentAdapter(NotifiedAdapter, PaymentAdapter):
    """A provider whose notification only names a payment, which the worker fetches
    (inbound.notified: PayPlug, Mollie). parse() reads the stored fetched event, whose body is
    `{"notified_at": <ISO time the notification came>, "object": <what fetch() returned>}`."""
