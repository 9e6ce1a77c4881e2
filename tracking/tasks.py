from celery import shared_task

from tracking import services


@shared_task(ignore_result=True)
def watch_shipments() -> dict:
    return {"stalled": services.flag_stalled(), "late": services.flag_late()}
