import json

from django.core.exceptions import ValidationError
from django.db import DataError


class VerificationError(Exception):
    """A webhook that must be refused: the message is a short reason, safe to return (4xx)."""

    status = 400


class Throttled(VerificationError):
    """Too many deliveries for now (429): the source retries later."""

    status = 429


def json_object(payload: bytes) -> dict:
    """A webhook body parsed as a JSON object, or the VerificationError that refuses it."""
    try:
        event = json.loads(payload.decode("utf-8"))
    except UnicodeDecodeError:
        raise VerificationError("body is not UTF-8") from None
    except ValueError:
        raise VerificationError("body is not valid JSON") from None
    if not isinstance(event, dict):
        raise VerificationError("body is not a JSON object")
    return event


# Bad data, which no retry can fix: a ValueError from our own parsing (json, int(), a date), a
# ValidationError from our validators (an address notifications' schedule() refuses), a DataError
# for what PostgreSQL refuses as data (SQLSTATE class 22: a value too long or out of range, a NUL
# in a string).
PERMANENT_ERRORS = (ValueError, ValidationError, DataError)


def is_permanent(error: BaseException) -> bool:
    """Whether processing that raised `error` would fail again whatever the wait. A network
    library's error that is also a ValueError (requests' JSONDecodeError for a truncated answer)
    is an OSError too, and stays temporary."""
    return isinstance(error, PERMANENT_ERRORS) and not isinstance(error, OSError)
