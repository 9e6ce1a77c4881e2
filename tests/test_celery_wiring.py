"""The beat task runs in a real Celery worker, through the real broker (Redis)."""

import time
import uuid
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.utils import timezone

from config.celery import app
from notifications.models import Message
from notifications.tasks import send_due_messages


@pytest.mark.django_db(transaction=True)
def test_send_due_messages_runs_in_a_worker_and_sends(make_tenant, schedule_message):
    storefront = make_tenant("Alpha", "whsec_alphaalphaalphaalpha").storefront
    storefront.quiet_hours_start = storefront.quiet_hours_end  # no quiet hours, whatever the hour
    storefront.save()
    schedule_message(storefront, send_at=timezone.now() - timedelta(minutes=1))
    # A queue of its own, so a demo worker on the same broker cannot take the task.
    queue = f"test-{uuid.uuid4().hex}"
    with start_worker(app, pool="solo", queues=[queue], perform_ping_check=False):
        send_due_messages.apply_async(queue=queue)
        wait_for(lambda: Message.objects.for_storefront(storefront).get().status == "sent")
    assert len(mail.outbox) == 1


def wait_for(condition, timeout=30.0):
    """Poll until the condition holds (no result backend to wait on); fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)
