from celery import shared_task

from tracking.services import watch


@shared_task(ignore_result=True)
def watch_shipments() -> dict:
    return {"stalled": watch.flag_stalled(), "late": watch.flag_late()}
