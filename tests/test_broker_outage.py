"""Quiet while the broker is down: the dispatcher, beat and /healthz each report the outage once
(a warning, no traceback), try again only after a backoff delay, and say once when it is back.
The broker is broken for real (a port where nothing listens), as in
tests/test_stripe_webhook.py::test_with_the_broker_down_nothing_is_lost."""

import json
import logging
import socket

import pytest

from config.beat import QuietScheduler
from config.celery import app
from inbound import outage
from inbound import services as inbound
from tests.conftest import reset_broker_connections
from tests.test_stripe_webhook import failed_event, post, sign, stored

pytestmark = pytest.mark.worker  # each test breaks the broker for real


class Clock:
    """A monotonic clock the test moves: the backoff's delays pass without sleeping."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(outage.BROKER, "clock", clock)
    return clock


@pytest.fixture
def broker(monkeypatch):
    """Break the broker and mend it: `broker.down()`, `broker.up()`. The queue of this test
    worker is emptied first (of what earlier tests sent) and afterwards."""
    good_url = app.conf.broker_url

    def empty_queue():
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge(app.conf.task_default_queue)

    class Broker:
        def down(self):
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                closed = probe.getsockname()[1]
            monkeypatch.setattr(app.conf, "broker_url", f"redis://127.0.0.1:{closed}/0")
            reset_broker_connections(forget_outage=False)

        def up(self):
            monkeypatch.setattr(app.conf, "broker_url", good_url)
            reset_broker_connections(forget_outage=False)

        def waiting(self) -> int:
            queue = app.conf.task_default_queue
            with app.connection_for_write() as conn:
                return conn.default_channel.queue_declare(queue=queue, passive=True).message_count

    empty_queue()
    yield Broker()
    monkeypatch.setattr(app.conf, "broker_url", good_url)
    reset_broker_connections()
    empty_queue()


def logged(caplog, level=logging.DEBUG):
    """The records at `level` or above, as (logger, level, message)."""
    return [(r.name, r.levelname, r.getMessage()) for r in caplog.records if r.levelno >= level]


@pytest.mark.django_db
def test_the_dispatcher_reports_the_outage_once_and_its_end_once(
    client, alpha, broker, clock, caplog
):
    broker.down()
    for n in range(3):
        body = json.dumps(failed_event(f"evt_{n}", order=f"ML-{n}", payment=f"pi_{n}")).encode()
        assert post(client, alpha.storefront, body, sign(body)).status_code == 200

    with caplog.at_level(logging.INFO):
        for _ in range(6):
            assert inbound.dispatch() == 0
            assert not outage.BROKER.may_try()  # backing off: the next tick does not try
            assert inbound.dispatch() == 0
            clock.advance(outage.BROKER.max_delay)
        assert not stored(alpha).filter(enqueued_at__isnull=False).exists()  # nothing lost
        assert logged(caplog, logging.WARNING) == [
            (
                "inbound.outage",
                "WARNING",
                "broker unreachable (OperationalError): trying again at most every 10 s "
                "until it is back",
            )
        ]
        assert all(r.exc_info is None for r in caplog.records)  # no traceback

        caplog.clear()
        broker.up()
        assert inbound.dispatch() == 3
        assert inbound.dispatch() == 0
    assert logged(caplog) == [("inbound.outage", "INFO", "broker reachable again after 60 s")]
    assert broker.waiting() == 3


@pytest.mark.django_db
def test_the_dispatcher_backs_off_exponentially(client, alpha, broker, clock):
    broker.down()
    body = json.dumps(failed_event()).encode()
    assert post(client, alpha.storefront, body, sign(body)).status_code == 200
    tries = []
    for _ in range(40):  # 40 s of one-second ticks
        if outage.BROKER.may_try():
            tries.append(clock.now - 1000)
        inbound.dispatch()
        clock.advance(1)
    # Tried at once, then after 1, 2, 4 and 8 s, then every 10 s.
    assert tries == [0, 1, 3, 7, 15, 25, 35]


@pytest.mark.django_db
def test_beat_reports_the_outage_once_and_sends_what_it_missed_when_the_broker_is_back(
    tmp_path, broker, clock, caplog
):
    scheduler = QuietScheduler(app=app, schedule_filename=str(tmp_path / "schedule"))
    dispatch = scheduler.schedule["dispatch-inbound-events"]
    send_due = scheduler.schedule["send-due-messages"]
    try:
        broker.down()
        with caplog.at_level(logging.INFO):
            for _ in range(6):  # a minute of ticks, each tried
                scheduler.apply_entry(dispatch)
                scheduler.apply_entry(send_due)  # backing off: not tried, kept for later
                clock.advance(outage.BROKER.max_delay)
            warnings = logged(caplog, logging.WARNING)
            assert warnings == [
                (
                    "inbound.outage",
                    "WARNING",
                    "broker unreachable (OperationalError): trying again at most every 10 s "
                    "until it is back",
                )
            ]
            assert all(r.exc_info is None for r in caplog.records)  # no traceback
            caplog.clear()

            broker.up()
            scheduler.apply_entry(dispatch)
        assert logged(caplog) == [
            (
                "config.beat",
                "INFO",
                "Scheduler: Sending due task dispatch-inbound-events (inbound.tasks.dispatch)",
            ),
            ("inbound.outage", "INFO", "broker reachable again after 60 s"),
            (
                "config.beat",
                "INFO",
                "Scheduler: Sending due task send-due-messages "
                "(notifications.tasks.send_due_messages)",
            ),
        ]
        assert broker.waiting() == 2  # this tick's dispatch, and the missed send_due once
    finally:
        scheduler.close()


@pytest.mark.django_db
def test_healthz_names_the_broker_while_it_is_down_and_logs_it_once(client, broker, clock, caplog):
    broker.down()
    with caplog.at_level(logging.INFO):
        for _ in range(5):
            response = client.get("/healthz")
            # Asked, it answers about now: it probes even while the dispatcher backs off.
            assert response.status_code == 503
            assert response.json() == {"status": "unavailable", "database": "up", "broker": "down"}
            clock.advance(1)
        assert [level for _, level, _ in logged(caplog, logging.WARNING)] == ["WARNING"]
        assert all(r.exc_info is None for r in caplog.records)
        caplog.clear()
        broker.up()
        assert client.get("/healthz").status_code == 200
        assert client.get("/healthz").status_code == 200
    assert logged(caplog) == [("inbound.outage", "INFO", "broker reachable again after 5 s")]


@pytest.mark.django_db
def test_beat_logs_an_entry_it_cannot_send_as_celery_does_without_backing_off(tmp_path, caplog):
    scheduler = QuietScheduler(app=app, schedule_filename=str(tmp_path / "schedule"))
    try:
        broken = scheduler.Entry(
            name="broken", task="inbound.tasks.dispatch", args=(object(),), app=app
        )
        with caplog.at_level(logging.INFO):
            scheduler.apply_entry(broken)  # its argument cannot be serialised: not the broker
        [error] = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert (error.name, error.levelname, error.exc_info is not None) == (
            "config.beat",
            "ERROR",
            True,
        )
        assert outage.BROKER.may_try()  # the broker is not taken for down
    finally:
        scheduler.close()
