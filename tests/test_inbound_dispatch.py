"""Stored events reach a worker: dispatched within a second, re-sent when a worker lost them."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from inbound import services as inbound
from inbound.models import InboundEvent
from tests.conftest import wait_for
from tests.test_stripe_webhook import failed_event, post, sign


@pytest.mark.django_db(transaction=True)
def test_dispatch_hands_new_events_to_a_worker_once(client, make_tenant, celery_worker):
    tenant = make_tenant("Alpha", "whsec_alphaalphaalphaalpha")
    body = json.dumps(failed_event()).encode()
    post(client, tenant.storefront, body, sign(body, "whsec_alphaalphaalphaalpha"))
    events = InboundEvent.objects.for_storefront(tenant.storefront)
    assert events.get().enqueued_at is None
    assert inbound.dispatch() == 1
    assert inbound.dispatch() == 0  # already enqueued: not sent twice
    wait_for(lambda: events.get().status == "processed")


@pytest.mark.django_db(transaction=True)
def test_an_event_a_worker_lost_is_sent_again(client, make_tenant, celery_worker):
    tenant = make_tenant("Alpha", "whsec_alphaalphaalphaalpha")
    body = json.dumps(failed_event()).encode()
    post(client, tenant.storefront, body, sign(body, "whsec_alphaalphaalphaalpha"))
    events = InboundEvent.objects.for_storefront(tenant.storefront)
    # Enqueued three minutes ago, never processed: the message was lost with its worker.
    events.update(enqueued_at=timezone.now() - timedelta(minutes=3))
    assert inbound.requeue_unprocessed(now=timezone.now() - timedelta(minutes=2)) == 0
    assert inbound.requeue_unprocessed() == 1
    wait_for(lambda: events.get().status == "processed")
