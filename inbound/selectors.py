"""Reads of the stored events."""

from inbound.models import InboundEvent


def failed_event_count() -> int:
    """The events failed for ops, every tenant's (/healthz?detail=1): one count, answered from
    the partial index inbound_event_failed alone."""
    return InboundEvent.unscoped.filter(status=InboundEvent.Status.FAILED).count()
