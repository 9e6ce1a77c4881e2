"""What a stored event's failure does: bad data (a value our parsing or the database refuses)
fails the event at once; anything else is retried with backoff and fails after
INBOUND_MAX_ATTEMPTS; failed events are logged once, listed for ops and counted on
/healthz?detail=1."""

import json
import logging

import pytest
from django.db import connection
from django.urls import reverse

from config.celery import app
from inbound import services as inbound
from inbound.models import InboundEvent
from inbound.tasks import process_inbound_event
from payments.models import LostSale
from payments.services import ingest
from tests.conftest import wait_for
from tests.test_stripe_webhook import failed_event, post, sign, stored


def deliver(client, tenant, event: dict) -> InboundEvent:
    body = json.dumps(event).encode()
    assert post(client, tenant.storefront, body, sign(body)).status_code == 200
    return stored(tenant).get(event_id=event["id"])


def sales(tenant):
    return LostSale.objects.for_storefront(tenant.storefront)


# --- Permanent and temporary errors -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_permanent_error_fails_the_event_at_once(client, alpha, celery_worker, caplog):
    # `created` in milliseconds: year 59009, a ValueError from our own parsing.
    event = failed_event(created=1_800_000_000_000)
    stored_event = deliver(client, alpha, event)
    with caplog.at_level(logging.INFO):
        assert inbound.dispatch() == 1
        wait_for(lambda: stored(alpha).get().status != "received")
    stored_event.refresh_from_db()
    assert (stored_event.status, stored_event.attempts) == ("failed", 1)
    assert stored_event.last_error == "ValueError: year 59009 is out of range"
    assert not sales(alpha).exists()
    failures = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.name for r in failures] == ["inbound.services"]
    assert "a permanent error" in failures[0].getMessage()
    assert failures[0].exc_info is not None  # the traceback, once


@pytest.mark.django_db
def test_a_value_the_database_refuses_is_a_permanent_error(client, alpha):
    event = failed_event()
    event["data"]["object"]["amount"] = 10**20  # beyond PostgreSQL's bigint
    stored_event = deliver(client, alpha, event)
    assert process_inbound_event.apply(args=[stored_event.pk, "stripe"]).get() == "failed"
    stored_event.refresh_from_db()
    assert (stored_event.status, stored_event.attempts) == ("failed", 1)
    assert stored_event.last_error.startswith("DataError: ")


@pytest.mark.django_db
def test_a_temporary_error_is_retried_then_failed_after_n_attempts_and_logged_once(
    alpha, settings, caplog
):
    settings.INBOUND_MAX_ATTEMPTS = 3
    # A connection no longer configured: not bad data (it may come back), so retried.
    event = inbound.store(
        storefront=alpha.storefront,
        provider="retired",
        event_id="evt-old",
        event_type="x",
        body="{}",
        headers={},
    )
    with caplog.at_level(logging.DEBUG, logger="inbound"):
        # Eagerly, in this process: Celery runs each retry at once, whatever its countdown.
        result = process_inbound_event.apply(args=[event.pk, "retired"])
    assert result.get() == "failed"
    event.refresh_from_db()
    assert (event.status, event.attempts) == ("failed", 3)
    assert "no connection called 'retired'" in event.last_error
    ours = [r for r in caplog.records if r.name == "inbound.services"]
    assert [r.levelname for r in ours] == ["DEBUG", "DEBUG", "ERROR"]
    assert [r.exc_info is not None for r in ours] == [False, False, True]
    assert "failed after 3 attempt(s): LookupError" in ours[-1].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and r not in ours]


@pytest.mark.django_db
def test_a_temporary_error_is_retried_with_backoff(alpha):
    event = inbound.store(
        storefront=alpha.storefront,
        provider="retired",
        event_id="evt-old",
        event_type="x",
        body="{}",
        headers={},
    )
    delays = [inbound.record_failure(event.pk, LookupError("gone")) for _ in range(4)]
    # About 10 s, 20 s, 40 s (with jitter: half to all of it), then no more: failed at 5.
    assert [5 <= delays[0] <= 10, 10 <= delays[1] <= 20, 20 <= delays[2] <= 40] == [True] * 3
    assert 30 <= delays[3] <= 60  # capped at a minute, under the sweeper's two
    assert inbound.record_failure(event.pk, LookupError("gone")) is None
    event.refresh_from_db()
    assert (event.status, event.attempts) == ("failed", 5)  # INBOUND_MAX_ATTEMPTS's default
    # Failed: a late duplicate delivery's failure changes nothing.
    assert inbound.record_failure(event.pk, LookupError("again")) is None
    event.refresh_from_db()
    assert (event.attempts, event.last_error) == (5, "LookupError: gone")


@pytest.mark.django_db
def test_a_failure_after_the_event_was_processed_does_not_undo_it(client, alpha):
    stored_event = deliver(client, alpha, failed_event())
    assert ingest.process_inbound_event(event_id=stored_event.pk) == "processed"
    assert inbound.record_failure(stored_event.pk, RuntimeError("after commit")) is None
    stored_event.refresh_from_db()
    assert (stored_event.status, stored_event.attempts) == ("processed", 0)


# --- Failed events, for ops ---------------------------------------------------------------------


def fail(tenant, event_id: str, error: Exception) -> InboundEvent:
    event = inbound.store(
        storefront=tenant.storefront,
        provider="stripe",
        event_id=event_id,
        event_type="payment_intent.payment_failed",
        body=json.dumps(failed_event(event_id)),
        headers={},
    )
    assert inbound.record_failure(event.pk, error) is None
    event.refresh_from_db()
    return event


@pytest.mark.django_db
def test_ops_find_failed_events_with_their_error_and_replay_them(ops, two_storefronts):
    alpha, bravo = two_storefronts
    failed = fail(alpha, "evt_bad", ValueError("year 59009 is out of range"))
    fail(bravo, "evt_bad_too", ValueError("year 59009 is out of range"))
    deliver(ops, alpha, failed_event("evt_fine"))  # received, not failed
    changelist = reverse("admin:inbound_inboundevent_changelist")
    page = ops.get(changelist, {"status__exact": "failed"})
    assert {e.event_id for e in page.context["cl"].result_list} == {"evt_bad", "evt_bad_too"}
    assert "ValueError: year 59009 is out of range" in page.content.decode()
    found = ops.get(changelist, {"q": "out of range"})
    assert {e.event_id for e in found.context["cl"].result_list} == {"evt_bad", "evt_bad_too"}

    ops.post(changelist, {"action": "replay", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == ("received", 0, "")
    assert ingest.process_inbound_event(event_id=failed.pk) == "processed"


@pytest.mark.django_db
def test_healthz_counts_the_failed_events_in_its_detail(client, alpha, django_assert_num_queries):
    fail(alpha, "evt_a", ValueError("bad"))
    fail(alpha, "evt_b", ValueError("bad"))
    deliver(client, alpha, failed_event("evt_fine"))
    with django_assert_num_queries(2):  # SELECT 1, and the count
        response = client.get("/healthz", {"detail": "1"})
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "up",
        "broker": "up",
        "failed_events": 2,
    }
    with django_assert_num_queries(1):  # the plain probe counts nothing
        assert "failed_events" not in client.get("/healthz").json()


@pytest.mark.django_db
def test_the_failed_count_is_answered_from_its_partial_index(alpha):
    with connection.cursor() as cursor:
        # The table is tiny here: forbid the scan the planner would rightly prefer, to show
        # that the index matches the query at all.
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = InboundEvent.unscoped.filter(status="failed").values("pk").explain()
    assert "inbound_event_failed" in plan


@pytest.mark.django_db(transaction=True)
def test_with_the_database_down_the_event_waits_for_the_sweeper(client, alpha, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from tests.test_health import closed_port

    stored_event = deliver(client, alpha, failed_event())
    stored(alpha).update(enqueued_at=timezone.now())
    # A real connection to a port where no PostgreSQL listens, as tests/test_health.py does.
    connection.close()
    connection.close_pool()
    with monkeypatch.context() as broken:
        broken.setitem(connection.settings_dict, "HOST", "127.0.0.1")
        broken.setitem(connection.settings_dict, "PORT", str(closed_port()))
        if "pool" in connection.settings_dict["OPTIONS"]:
            broken.setitem(connection.settings_dict["OPTIONS"]["pool"], "timeout", 0.5)
        try:
            result = process_inbound_event.apply(args=[stored_event.pk, "stripe"]).get()
        finally:
            connection.close()
            connection.close_pool()
    assert result == "deferred"  # not retried: nothing could count the retries
    stored_event.refresh_from_db()
    assert (stored_event.status, stored_event.attempts) == ("received", 0)
    # The sweeper's pass once the database is back enqueues it (it waited SWEEP_INTERVAL).
    try:
        assert inbound.requeue_unprocessed(now=timezone.now() + timedelta(minutes=3)) == 1
    finally:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge(app.conf.task_default_queue)
