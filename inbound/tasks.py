from celery import shared_task

from inbound import services


def process_or_retry(task, event_id: int, process) -> str:
    """Run a domain app's processing of a stored event; on failure the event stays stored and
    `received`, the attempt is counted, and Celery retries (then the sweeper, until the event
    is marked failed for ops)."""
    try:
        return process(event_id=event_id)
    except Exception as error:
        services.record_failure(event_id, error)
        raise task.retry(exc=error) from error


@shared_task(ignore_result=True)
def dispatch() -> int:
    return services.dispatch()


@shared_task(ignore_result=True)
def requeue_unprocessed() -> int:
    return services.requeue_unprocessed()
