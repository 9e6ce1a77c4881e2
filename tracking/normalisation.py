"""Each tracking source's status words, translated into the canonical ShipmentStatus values.

The tables live with their source, in its package's statuses.py
(tracking/providers/<source>/statuses.py), each row citing where its meaning is documented,
tested row by row; the source's adapter exposes its lookup as normalise(status, detail). What
every source shares is here. A code we do not know gives "" (the caller keeps the status it
had), never a guess: a wrong "delivered" or "returned" sends a buyer the wrong words; a missing
update only waits for the next checkpoint. Every lookup strips the code and compares it
case-insensitively (norm(), folded()). A finer detail refines its status, except a final one
(refined()).

What "returned" means here: the parcel is going, or has gone, back to the sender, so it will not
reach the buyer under this tracking number. Carriers report "returning" long before "returned"
(EasyPost's `return_to_sender` covers both), and for the buyer the news is the same.
"""

from collections.abc import Mapping

from storefront_settings import connections
from tracking.statuses import FINAL


def norm(value: str | None) -> str:
    return (value or "").strip().casefold()


def folded(table: Mapping[str, str]) -> dict[str, str]:
    """The table with its codes as norm() makes them, for lookups of norm()ed codes."""
    # Sources are consistent about case, but a lower-cased "intransit" is still unambiguous.
    # str(): plain strings out, not enum members.
    return {norm(code): str(value) for code, value in table.items()}


def refined(base: str, refinement: str) -> str:
    """The status `base`, or the finer `refinement` a detail gives where it says more."""
    # Except against a final status: once the source says the journey ended (delivered,
    # returned, expired), a detail does not reopen it.
    if refinement and base not in FINAL:
        return refinement
    return base


def normalise(provider: str, status: str, detail: str = "") -> str:
    """The canonical ShipmentStatus value for a source's `status` and finer `detail`, or "".

    `provider` is a tracking connection's key: "aftership" (tag, subtag), "easypost" (status,
    status_detail) or "generic" (a canonical value, any case; detail unused). The detail wins
    where it refines the status, unless the status is final (delivered, returned, expired). ""
    means the source said nothing we can rely on, and the caller keeps the status it had.
    Raises ValueError for a provider that has no table (a programming error, not bad data).
    """
    connection = connections.find(provider)
    lookup = getattr(connection.adapter, "normalise", None) if connection else None
    if lookup is None:
        raise ValueError(f"no status table for provider {provider!r}")
    return lookup(status, detail)
