from celery import shared_task

from payments.services import alerts, recovery


@shared_task(ignore_result=True)
def expire_lost_sales() -> int:
    return recovery.expire_lost_sales()


@shared_task(ignore_result=True)
def send_daily_digests() -> int:
    return alerts.send_daily_digests()
