"""One module per tracking source: verify and parse its webhooks into TrackingSignals, in the
canonical status vocabulary, and the adapter the webhook edge (inbound.edge) uses for it.
Parsing only: no database, no decisions."""

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlsplit

from inbound.edge import EdgeEvent, WebhookAdapter
from inbound.errors import VerificationError
from storefront_settings.models import Storefront

__all__ = ["CheckpointData", "TrackingAdapter", "TrackingSignal", "VerificationError", "web_url"]

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
class CheckpointData:
    occurred_at: datetime  # timezone-aware
    status: str  # a canonical ShipmentStatus value
    raw_status: str = ""  # the source's own status / tag
    raw_detail: str = ""  # the source's sub-status / subtag / status_detail
    description: str = ""
    location: str = ""


@dataclass(frozen=True)
class TrackingSignal:
    """What one tracking event says about one parcel."""

    provider: str  # easypost, aftership, generic
    event_id: str
    event_type: str
    tracking_number: str
    carrier: str = ""  # a tracking.carriers.Carrier value, or "" when unknown
    status: str = ""  # the canonical status the source gives as current ("" if none)
    raw_status: str = ""
    raw_detail: str = ""
    estimated_delivery: date | None = None
    carrier_tracking_url: str = ""
    checkpoints: tuple[CheckpointData, ...] = ()


def parse_stored(provider: str, body: str) -> list[TrackingSignal]:
    """The signals in a stored event's raw body (empty when the event is of no interest)."""
    # The adapters import this package, so they are imported here, when first needed.
    from tracking.providers import aftership, easypost, generic

    event = json.loads(body)
    parsers = {"easypost": easypost.parse, "aftership": aftership.parse, "generic": generic.parse}
    signal = parsers[provider](event)
    return [signal] if signal is not None else []


class TrackingAdapter(WebhookAdapter):
    """The webhook edge's view of a tracking source: one event a request, stored when parse()
    reads it, acknowledged as ignored when it does not (a type we do not read)."""

    def parse(self, event: dict) -> TrackingSignal | None:
        raise NotImplementedError

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
