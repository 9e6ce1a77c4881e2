"""Placeholder while the classification table is written."""

from payments.providers import SignalKind
from payments.reasons import FailureReason


def classify(provider: str, codes: dict[str, str], kind: SignalKind) -> FailureReason:
    if kind == SignalKind.ABANDONED:
        return FailureReason.ABANDONED
    return FailureReason.UNKNOWN
