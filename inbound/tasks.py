from celery import shared_task

from inbound import services


@shared_task(ignore_result=True)
def dispatch() -> int:
    return services.dispatch()


@shared_task(ignore_result=True)
def requeue_unprocessed() -> int:
    return services.requeue_unprocessed()
