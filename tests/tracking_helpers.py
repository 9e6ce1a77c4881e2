"""Building TrackingSignals for domain tests, without any source's format."""

import itertools
from datetime import UTC, datetime, timedelta

from tracking.signals import CheckpointData, TrackingSignal

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
_ids = itertools.count(1)


def point(status, hours=0, description="", location=""):
    return CheckpointData(
        occurred_at=T0 + timedelta(hours=hours),
        status=status,
        description=description or status.replace("_", " "),
        location=location,
    )


def update(*points, number="6A12345678901", **fields) -> TrackingSignal:
    values = {
        "provider": "generic",
        "event_id": f"msg_{next(_ids)}",
        "event_type": "shipment.updated",
        "tracking_number": number,
        "checkpoints": tuple(points),
        "status": points[-1].status if points else "",
    }
    values.update(fields)
    return TrackingSignal(**values)
