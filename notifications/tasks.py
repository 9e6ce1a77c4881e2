from celery import shared_task

from notifications.services import due_now, sending

# Beat runs send_due_messages every few seconds; a run stops claiming after this long.
SEND_BUDGET_SECONDS = 60


@shared_task(ignore_result=True)
def send_due_messages() -> dict:
    report = sending.send_due(max_seconds=SEND_BUDGET_SECONDS)
    return {"sent": report.sent, "retried": report.retried, "failed": report.failed}


@shared_task(name=due_now.SEND_TASK, ignore_result=True)
def send_now(message_ids: list[int]) -> dict:
    """Send messages that were due when scheduled (enqueued on commit by outbox.schedule)."""
    report = sending.send_now(message_ids)
    return {"sent": report.sent, "retried": report.retried, "failed": report.failed}


@shared_task(ignore_result=True)
def fail_stale_sends() -> int:
    return sending.fail_stale_sends()
