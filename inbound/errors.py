import json


class VerificationError(Exception):
    """A webhook that must be refused: the message is a short reason, safe to return (4xx)."""


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
