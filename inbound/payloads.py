"""Reading the JSON a source sends. Sources leave fields out, send null, or send another type than
their documentation says; each reader here gives the type asked for, or its empty value, so a
parser reads a field in one expression and never fails on its shape."""

from collections.abc import Mapping
from datetime import date
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
