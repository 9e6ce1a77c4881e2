"""The beat task runs in a real Celery worker, through the real broker (Redis)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from notifications.models import Message
from notifications.tasks import send_due_messages
from tests.conftest import wait_for


@pytest.mark.django_db(transaction=True)
def test_send_due_messages_runs_in_a_worker_and_sends(make_tenant, schedule_message, celery_worker):
    storefront = make_tenant("Alpha", "whsec_alphaalphaalphaalpha").storefront
    storefront.quiet_hours_start = storefront.quiet_hours_end  # no quiet hours, whatever the hour
    storefront.save()
    schedule_message(storefront, send_at=timezone.now() - timedelta(minutes=1))
    send_due_messages.delay()
    wait_for(lambda: Message.objects.for_storefront(storefront).get().status == "sent")
    assert len(mail.outbox) == 1
