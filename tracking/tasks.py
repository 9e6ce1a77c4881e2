from celery import shared_task

from inbound.tasks import process_or_retry
from tracking import services


@shared_task(bind=True, ignore_result=True, max_retries=5, default_retry_delay=10)
def process_inbound_event(self, event_id: int) -> str:
    return process_or_retry(self, event_id, services.process_inbound_event)


@shared_task(ignore_result=True)
def watch_shipments() -> dict:
    return {"stalled": services.flag_stalled(), "late": services.flag_late()}
