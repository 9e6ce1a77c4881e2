from celery import shared_task

from inbound import services as inbound
from payments import services


@shared_task(bind=True, ignore_result=True, max_retries=5, default_retry_delay=10)
def process_inbound_event(self, event_id: int) -> str:
    try:
        return services.process_inbound_event(event_id=event_id)
    except Exception as error:
        # The event stays stored and `received`: counted here, retried by Celery and, after
        # that, by the inbound sweeper, until it is marked failed for ops.
        inbound.record_failure(event_id, error)
        raise self.retry(exc=error) from error


@shared_task(ignore_result=True)
def expire_lost_sales() -> int:
    return services.expire_lost_sales()


@shared_task(ignore_result=True)
def send_daily_digests() -> int:
    return services.send_daily_digests()
