"""What a tracking source's event says about a parcel, in the canonical status vocabulary: the
adapters (tracking.providers.<source>) make TrackingSignals, tracking.services.ingest applies
them."""

from dataclasses import dataclass
from datetime import date, datetime


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
