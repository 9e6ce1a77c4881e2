from celery import shared_task

from inbound.tasks import process_or_retry
from payments.services import alerts, ingest, recovery


@shared_task(bind=True, ignore_result=True, max_retries=5, default_retry_delay=10)
def process_inbound_event(self, event_id: int) -> str:
    return process_or_retry(self, event_id, ingest.process_inbound_event)


@shared_task(ignore_result=True)
def expire_lost_sales() -> int:
    return recovery.expire_lost_sales()


@shared_task(ignore_result=True)
def send_daily_digests() -> int:
    return alerts.send_daily_digests()
