"""Map a provider's raw failure codes to one canonical FailureReason (ARCHITECTURE.md, "Canonical
vocabularies"). Pure functions over in-code tables: no database, no I/O. The raw codes are kept
on the signal by the caller; this module only names the reason.

The tables and each provider's precedence live with the provider, in its package's codes.py
(payments/providers/<provider>/codes.py), each row with its source; the provider's adapter
exposes them as classify(codes, kind). What is shared is here: every lookup strips the code and
compares it case-insensitively (folded(), norm()); a code no table knows gives
FailureReason.UNKNOWN, except where a provider's rules fall through to a vaguer signal; and the
last resort, for any provider, is kind ABANDONED -> abandoned, otherwise UNKNOWN (fallback()).
"""

from collections.abc import Mapping

from payments.reasons import FailureReason
from payments.signals import SignalKind
from storefront_settings import connections


def norm(value: str | None) -> str:
    return (value or "").strip().casefold()


def folded(table: Mapping[str, FailureReason]) -> dict[str, FailureReason]:
    """The table with its codes as norm() makes them, for lookups of norm()ed codes."""
    return {norm(code): reason for code, reason in table.items()}


def fallback(kind: SignalKind) -> FailureReason:
    return FailureReason.ABANDONED if kind == SignalKind.ABANDONED else FailureReason.UNKNOWN


def classify(provider: str, codes: Mapping[str, str], kind: SignalKind) -> FailureReason:
    """The canonical reason for a failed or abandoned payment, from the provider's raw codes.

    `codes` holds the keys the provider's adapter fills (see its codes.py); missing keys and
    empty strings are the same. Unmapped codes give FailureReason.UNKNOWN.
    """
    connection = connections.find(norm(provider))
    classifier = getattr(connection.adapter, "classify", None) if connection else None
    if classifier is None:
        return fallback(kind)
    return classifier(codes, kind)
