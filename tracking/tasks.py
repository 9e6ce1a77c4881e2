from celery import shared_task

from inbound import services as inbound
from tracking import services


@shared_task(bind=True, ignore_result=True, max_retries=5, default_retry_delay=10)
def process_inbound_event(self, event_id: int) -> str:
    try:
        return services.process_inbound_event(event_id=event_id)
    except Exception as error:
        # Kept `received` and counted, retried by Celery, then by the inbound sweeper.
        inbound.record_failure(event_id, error)
        raise self.retry(exc=error) from error


@shared_task(ignore_result=True)
def watch_shipments() -> dict:
    return {"stalled": services.flag_stalled(), "late": services.flag_late()}
