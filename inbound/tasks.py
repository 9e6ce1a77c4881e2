from celery import shared_task

from inbound import services
from storefront_settings import connections


@shared_task(
    name=services.PROCESS_TASK, bind=True, ignore_result=True, max_retries=5, default_retry_delay=10
)
def process_inbound_event(self, event_id: int, provider: str) -> str:
    """Process one stored event: its connection's adapter applies it. On failure the event stays
    stored and `received`, the attempt is counted, and Celery retries (then the sweeper, until
    the event is marked failed for ops)."""
    try:
        return connections.get(provider).adapter.process(event_id=event_id)
    except Exception as error:
        services.record_failure(event_id, error)
        raise self.retry(exc=error) from error


@shared_task(ignore_result=True)
def dispatch() -> int:
    return services.dispatch()


@shared_task(ignore_result=True)
def requeue_unprocessed() -> int:
    return services.requeue_unprocessed()
