"""A message due when it is scheduled is enqueued on commit and sent without waiting for the beat
tick, through the same claim and guards: quiet hours still hold, nothing goes twice, and a broker
that does not answer loses nothing."""

import base64
import json
import logging
import socket
import time
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.utils import timezone

from config.celery import app
from inbound import services as inbound
from notifications.models import Message
from notifications.services import due_now, sending
from tests.conftest import reset_broker_connections, wait_for
from tests.test_outbox import NOON_PARIS
from tests.test_stripe_webhook import failed_event, post, sign


def messages(tenant, **filters):
    return Message.objects.for_storefront(tenant.storefront).filter(**filters)


@pytest.mark.django_db(transaction=True)
def test_the_alert_a_webhook_schedules_is_sent_without_the_beat_tick(client, alpha, celery_worker):
    body = json.dumps(failed_event()).encode()
    assert post(client, alpha.storefront, body, sign(body)).status_code == 200
    # The dispatcher's tick hands the event to the worker; no send_due tick runs in this test.
    assert inbound.dispatch() == 1
    alert = messages(alpha, kind="merchant_failed_payment_alert")
    wait_for(lambda: alert.filter(status="sent").exists())
    assert [email.to for email in mail.outbox] == [[alpha.owner.email]]
    # The buyer's recovery emails are due hours later, per the policy: they wait.
    recovery = messages(alpha, kind="payment_recovery")
    assert recovery.exists()
    assert set(recovery.values_list("status", flat=True)) == {"scheduled"}


def no_quiet_hours(storefront) -> None:
    """No quiet hours (start == end), so a test that sends does not depend on the time of day
    it runs at (the default ones cover 21:00–08:00 in the storefront's time zone)."""
    storefront.quiet_hours_start = storefront.quiet_hours_end
    storefront.save()


def quiet_now(storefront) -> None:
    """Quiet hours from an hour ago to an hour from now, in the storefront's time zone."""
    local = timezone.now().astimezone(storefront.zone)
    storefront.quiet_hours_start = (local - timedelta(hours=1)).time()
    storefront.quiet_hours_end = (local + timedelta(hours=1)).time()
    storefront.save()


@pytest.mark.django_db(transaction=True)
def test_quiet_hours_hold_for_a_message_due_now(alpha, schedule_message, celery_worker):
    quiet_now(alpha.storefront)
    message = schedule_message(alpha.storefront, send_at=timezone.now())
    # The worker claimed it and put it off until the quiet hours end.
    wait_for(lambda: messages(alpha).get(pk=message.pk).next_attempt_at > message.send_at)
    message.refresh_from_db()
    assert message.status == "scheduled"
    assert message.next_attempt_at == alpha.storefront.quiet_hours_end_after(message.send_at)
    assert mail.outbox == []


@pytest.mark.django_db
def test_send_now_goes_through_the_claim_and_guards(alpha, schedule_message):
    sent = schedule_message(alpha.storefront)
    later = schedule_message(alpha.storefront, send_at=NOON_PARIS + timedelta(hours=1))
    night = NOON_PARIS.replace(hour=22)
    assert sending.send_now([sent.pk, later.pk], now=NOON_PARIS).sent == 1
    # Sent once: the beat tick or a second task finds nothing left to claim.
    assert sending.send_now([sent.pk], now=NOON_PARIS).claimed == 0
    assert sending.send_due(now=NOON_PARIS).claimed == 0
    # Due at night: put off to the morning, like the tick would.
    report = sending.send_now([later.pk], now=night)
    assert (report.sent, report.deferred) == (0, 1)
    assert len(mail.outbox) == 1


def queued_tasks() -> list[tuple[str, list]]:
    """The tasks waiting in this test worker's queue (kombu keeps a queue as a Redis list of
    JSON envelopes, the body base64-encoded): (task name, positional arguments)."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        raw = client.lrange(app.conf.task_default_queue, 0, -1)
    finally:
        client.close()
    tasks = []
    for item in raw:
        envelope = json.loads(item)
        args, _kwargs, _embed = json.loads(base64.b64decode(envelope["body"]))
        tasks.append((envelope["headers"]["task"], args))
    return tasks


@pytest.fixture
def empty_queue():
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        client.delete(app.conf.task_default_queue)
    finally:
        client.close()


@pytest.mark.django_db(transaction=True)
def test_what_one_transaction_schedules_due_goes_in_one_task_on_commit(
    alpha, schedule_message, empty_queue
):
    with transaction.atomic():
        due = [schedule_message(alpha.storefront, to=f"b{n}@example.com") for n in range(3)]
        schedule_message(alpha.storefront, send_at=timezone.now() + timedelta(hours=1))
        assert queued_tasks() == []  # nothing before the commit
    assert queued_tasks() == [(due_now.SEND_TASK, [[m.pk for m in due]])]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_savepoint_takes_its_messages_not_the_others(
    alpha, schedule_message, empty_queue
):
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            schedule_message(alpha.storefront, to="gone@example.com")
            raise RuntimeError
        kept = schedule_message(alpha.storefront, to="kept@example.com")
    assert queued_tasks() == [(due_now.SEND_TASK, [[kept.pk]])]
    with pytest.raises(RuntimeError), transaction.atomic():
        schedule_message(alpha.storefront, to="also-gone@example.com")
        raise RuntimeError
    assert len(queued_tasks()) == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_scheduling_stands_and_the_tick_sends_later(
    alpha, schedule_message, monkeypatch, caplog
):
    no_quiet_hours(alpha.storefront)  # the tick sends whatever the time of day
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    good_broker = app.conf.broker_url
    monkeypatch.setattr(app.conf, "broker_url", f"redis://127.0.0.1:{closed}/0")
    reset_broker_connections()
    caplog.set_level(logging.INFO, logger=due_now.__name__)
    try:
        for n in range(3):
            with transaction.atomic():
                schedule_message(alpha.storefront, to=f"b{n}@example.com")
    finally:
        monkeypatch.setattr(app.conf, "broker_url", good_broker)
        reset_broker_connections()
    # Scheduled all the same, and the outage logged once, not once a message.
    assert messages(alpha, status="scheduled").count() == 3
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "broker does not answer" in caplog.records[0].getMessage()
    # The broker is back: the next enqueue says so; the tick sends what waited.
    schedule_message(alpha.storefront, to="b3@example.com")
    assert [r.levelname for r in caplog.records] == ["WARNING", "INFO"]
    assert sending.send_due().sent == 4


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_broker_that_accepts_but_never_answers_does_not_hold_the_commit(
    alpha, schedule_message, monkeypatch
):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # connections are accepted by the kernel, never answered
    good_broker = app.conf.broker_url
    monkeypatch.setattr(app.conf, "broker_url", f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
    reset_broker_connections()
    started = time.monotonic()
    try:
        with transaction.atomic():
            schedule_message(alpha.storefront)
    finally:
        monkeypatch.setattr(app.conf, "broker_url", good_broker)
        reset_broker_connections()
        silent.close()
    # Bounded by the answer timeout (and one retry of the connection), not held indefinitely.
    assert time.monotonic() - started < 10
    assert messages(alpha, status="scheduled").count() == 1
