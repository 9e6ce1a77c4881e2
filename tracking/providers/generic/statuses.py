"""The generic format's statuses: our own format speaks the canonical ShipmentStatus values
(docs/generic-tracking-webhooks.md), in any case, and nothing else: no synonyms, no details."""

from tracking.normalisation import norm
from tracking.statuses import ShipmentStatus as S

CANONICAL: frozenset[str] = frozenset(S.values)


def normalise(status: str, detail: str = "") -> str:
    """The canonical value `status` names, or "" for anything else. `detail` is unused: the
    format has none."""
    status = norm(status)
    return status if status in CANONICAL else ""
