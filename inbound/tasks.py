import logging

from celery import shared_task
from django.db import DatabaseError

from inbound import services
from storefront_settings import connections

logger = logging.getLogger(__name__)


# No max_retries: the event's own count of failed attempts decides (services.record_failure).
@shared_task(name=services.PROCESS_TASK, bind=True, ignore_result=True, max_retries=None)
def process_inbound_event(self, event_id: int, provider: str) -> str:
    """Process one stored event: its connection's adapter applies it. On failure the event stays
    stored; a permanent error fails it at once, a temporary one is retried with backoff until
    the event has failed settings.INBOUND_MAX_ATTEMPTS times (then it is failed for ops)."""
    try:
        return connections.get(provider).adapter.process(event_id=event_id)
    except Exception as error:
        try:
            delay = services.record_failure(event_id, error)
        except DatabaseError as unrecorded:
            # The database is down too, so nothing can be counted. The event stays `received`
            # and the sweeper enqueues it again once the database is back: no chain of retries
            # that nothing counts outlives the outage.
            logger.warning(
                "inbound event %s not processed: database unreachable (%s)",
                event_id,
                type(unrecorded).__name__,
            )
            return "deferred"
        if delay is None:
            return "failed"
        raise self.retry(exc=error, countdown=delay) from error


@shared_task(ignore_result=True)
def dispatch() -> int:
    return services.dispatch()


@shared_task(ignore_result=True)
def requeue_unprocessed() -> int:
    return services.requeue_unprocessed()
