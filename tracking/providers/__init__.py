"""One package per tracking source (tracking/providers/<source>/, registered in
settings.CONNECTIONS): its adapter verifies and parses the source's webhooks into
TrackingSignals, in the canonical status vocabulary; its statuses.py maps the source's status
words to that vocabulary; its samples.py builds the events the test button, the demo and the
tests send. Parsing only: no database, no decisions.

TrackingAdapter is what they share: the edge's events(), the worker's processing of a stored
event, and the hooks a source fills in; web_url() is the check every carrier link goes through;
Step is a checkpoint as the samples take it."""

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from inbound.edge import EdgeEvent, WebhookAdapter
from storefront_settings.models import Storefront
from tracking.services import ingest
from tracking.signals import TrackingSignal

# Shipment.carrier_tracking_url's length; a longer address would fail the save.
MAX_URL_LENGTH = 1000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def web_url(value: str) -> str:
    """The address, stripped, if it is an http(s) URL with a host; otherwise "".

    Carrier links are shown to buyers and merchants as links: a javascript: or data: URL (or
    anything else a source sends) would run in their browser, so it is dropped, never stored."""
    url = value.strip() if isinstance(value, str) else ""
    if not url or len(url) > MAX_URL_LENGTH or _CONTROL.search(url):
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced [ in the host
        return ""
    return url if parts.scheme.lower() in ("http", "https") and parts.hostname else ""


@dataclass(frozen=True)
class Step:
    """One checkpoint of a parcel's journey, as a source's samples take it: they write its
    canonical status in the source's own words (the package's samples.WORDS)."""

    at: datetime  # timezone-aware
    status: str  # a canonical ShipmentStatus value
    message: str = ""
    location: str = ""


class TrackingAdapter(WebhookAdapter):
    """The webhook edge's view of a tracking source: one event a request, stored when parse()
    reads it, acknowledged as ignored when it does not (a type we do not read)."""

    def parse(self, event: Any) -> TrackingSignal | None:
        raise NotImplementedError

    def normalise(self, status: str, detail: str = "") -> str:
        """The canonical status for the source's status and finer detail, or "" (its
        statuses.py; tracking.normalisation.normalise dispatches here)."""
        raise NotImplementedError

    def signals(self, body: str) -> list[TrackingSignal]:
        """The signals in a stored event's raw body (empty when the event is of no interest)."""
        signal = self.parse(json.loads(body))
        return [signal] if signal is not None else []

    def events(self, storefront: Storefront, body: bytes, payload: dict) -> list[EdgeEvent]:
        signal = self.parse(payload)
        if signal is None:
            return []
        return [
            EdgeEvent(
                storefront=storefront,
                event_id=signal.event_id,
                event_type=signal.event_type,
                body=body.decode("utf-8"),  # verify() refused anything that is not UTF-8
            )
        ]

    def process(self, *, event_id: int) -> str:
        return ingest.process_inbound_event(event_id=event_id)
