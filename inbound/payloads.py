"""Reading the JSON a source sends. Sources leave fields out, send null, or send another type than
their documentation says; each reader here gives the type asked for, or its empty value, so a
parser reads a field in one expression and never fails on its shape."""

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any


def as_mapping(value: Any) -> Mapping:
    return value if isinstance(value, Mapping) else {}


def as_text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def as_date(value: Any) -> date | None:
    """The calendar date an ISO 8601 text starts with ("2025-11-19", "2025-11-19T10:00:00Z"),
    or None."""
    try:
        return date.fromisoformat(as_text(value).strip()[:10])
    except ValueError:
        return None


def as_utc_datetime(value: Any) -> datetime | None:
    """The instant an ISO 8601 text names ("2024-03-20T09:28:37+00:00", "…Z"), in UTC; a text
    without an offset is read as UTC (the payment providers' clocks); None for anything else."""
    try:
        moment = datetime.fromisoformat(as_text(value).strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
