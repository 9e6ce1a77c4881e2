"""A worker that dies while sending strands at most the one message it was handing over: every
other due message is sent by the next worker, once; the one in doubt is marked so, and sent again
or failed per EMAIL_RESEND_IN_DOUBT."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from anymail.signals import AnymailTrackingEvent, EventType
from django.conf import settings as django_settings
from django.core import mail
from django.db import connection

from notifications.events import record_esp_event
from notifications.models import Audience, Message
from notifications.services import sending
from tests.conftest import wait_for
from tests.test_outbox import NOON_PARIS

ErrorCode = Message.ErrorCode
AFTER_STALE = NOON_PARIS + sending.STALE_SEND + timedelta(minutes=1)

# --- a worker killed for real -------------------------------------------------------------------


class HangingBackend:
    """The email backend of the worker the test kills: it appends the X-Aftersale-Message header
    of each email it accepts to the file HANGING_BACKEND_LOG names, and at the HANGING_BACKEND_AT-th
    email it creates HANGING_BACKEND_MARK and waits to be killed, as a worker stuck in an ESP's
    request would be."""

    handed = 0

    def __init__(self, **kwargs):
        self.log = Path(os.environ["HANGING_BACKEND_LOG"])
        self.mark = Path(os.environ["HANGING_BACKEND_MARK"])
        self.hang_at = int(os.environ["HANGING_BACKEND_AT"])

    def open(self):
        return True

    def close(self):
        pass

    def send_messages(self, messages):
        for email in messages:
            message_id = email.extra_headers["X-Aftersale-Message"]
            HangingBackend.handed += 1
            if HangingBackend.handed == self.hang_at:
                self.mark.write_text(message_id)
                time.sleep(600)
            with self.log.open("a") as log:
                log.write(message_id + "\n")
        return len(messages)


# The worker: the project's settings on the test's database, send_due() at the tests' noon.
WORKER = f"""
import django
from datetime import datetime
from django.conf import settings
django.setup()
settings.DATABASES["default"]["NAME"] = {{database!r}}
settings.EMAIL_BACKEND = "{__name__}.HangingBackend"
from notifications.services import sending
sending.send_due(now=datetime.fromisoformat({NOON_PARIS.isoformat()!r}))
raise SystemExit("send_due returned: the backend was meant to hang")
"""


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_send_leaves_one_message_in_doubt_and_the_rest_go_once(
    alpha, schedule_message, tmp_path
):
    messages = [schedule_message(alpha.storefront, to=f"buyer{n}@example.com") for n in range(12)]
    log, mark = tmp_path / "sent.log", tmp_path / "hanging"
    worker = subprocess.Popen(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", WORKER.format(database=connection.settings_dict["NAME"])],
        cwd=django_settings.BASE_DIR,
        env={
            **os.environ,
            "HANGING_BACKEND_LOG": str(log),
            "HANGING_BACKEND_MARK": str(mark),
            "HANGING_BACKEND_AT": "5",
        },
    )
    try:
        wait_for(lambda: mark.exists() or worker.poll() is not None, timeout=60)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    assert mark.exists(), "the worker exited before it hung"
    in_doubt = int(mark.read_text())
    sent_by_the_dead = [int(line) for line in log.read_text().split()]
    assert len(sent_by_the_dead) == 4

    # Killed while handing over its fifth: only that one is `sending`; the rest wait, claimable.
    statuses = dict(Message.objects.for_storefront(alpha.storefront).values_list("pk", "status"))
    assert statuses[in_doubt] == "sending"
    assert [pk for pk, status in statuses.items() if status == "sending"] == [in_doubt]
    assert {statuses[pk] for pk in sent_by_the_dead} == {"sent"}
    assert list(statuses.values()).count("scheduled") == 7

    # The next worker sends every other message, and none twice.
    assert sending.send_due(now=NOON_PARIS).sent == 7
    sent_by_the_next = [int(email.extra_headers["X-Aftersale-Message"]) for email in mail.outbox]
    everything = sorted(sent_by_the_dead + sent_by_the_next)
    assert everything == sorted(m.pk for m in messages if m.pk != in_doubt)

    # A buyer's email in doubt is not sent again by default: it is marked for a person to see.
    assert sending.fail_stale_sends(now=AFTER_STALE) == 1
    message = Message.objects.for_storefront(alpha.storefront).get(pk=in_doubt)
    assert (message.status, message.error_code) == ("failed", ErrorCode.STALE_SEND)
    assert "may have been sent" in message.last_error
    assert sending.send_due(now=AFTER_STALE).claimed == 0
    assert len(mail.outbox) == 7


# --- a crash between claim and send, in process -------------------------------------------------


class CrashingBackend:
    """Accepts emails into mail.outbox, except the one whose turn is `crash_at`: there the worker
    dies (SystemExit is no Exception, so nothing in sending catches it), after the claim and
    before any answer from the ESP. Records the headers of every email it was handed."""

    crash_at = 0
    handed: list[dict] = []

    def __init__(self, **kwargs):
        pass

    def open(self):
        return True

    def close(self):
        pass

    def send_messages(self, messages):
        for email in messages:
            CrashingBackend.handed.append(dict(email.extra_headers))
            if len(CrashingBackend.handed) == CrashingBackend.crash_at:
                raise SystemExit("killed while handing over")
            mail.outbox.append(email)
        return len(messages)


@pytest.fixture
def crashing(settings):
    settings.EMAIL_BACKEND = f"{__name__}.CrashingBackend"
    CrashingBackend.handed = []
    CrashingBackend.crash_at = 2
    return CrashingBackend


def crash_then_recover(
    settings, tenant, count, audience=Audience.BUYER
) -> tuple[list[Message], Message]:
    """Schedule `count` messages (to buyers, each their own, or to the owner); a worker dies
    handing over one (CrashingBackend.crash_at); another, with the locmem backend, sends the
    rest. The messages, and the one in doubt (still `sending`)."""
    import itertools

    from notifications.services import outbox

    keys = itertools.count()
    messages = [
        outbox.schedule(
            tenant.storefront,
            to=tenant.owner.email if audience == Audience.MERCHANT else f"buyer{n}@example.com",
            template="test_message",
            context={"requested_by": "Camille", "settings_url": "https://shop.example/s"},
            send_at=NOON_PARIS - timedelta(minutes=1),
            idempotency_key=f"in-doubt-{audience}-{next(keys)}",
            kind="test",
            audience=audience,
        )
        for n in range(count)
    ]
    with pytest.raises(SystemExit):
        sending.send_due(now=NOON_PARIS)
    scheduled = Message.objects.for_storefront(tenant.storefront).filter(
        pk__in=[m.pk for m in messages]
    )
    in_doubt = scheduled.get(status="sending")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert sending.send_due(now=NOON_PARIS).sent == count - CrashingBackend.crash_at
    return messages, in_doubt


def crash_again(settings, crash_at: int) -> None:
    """Arm CrashingBackend for another round."""
    settings.EMAIL_BACKEND = f"{__name__}.CrashingBackend"
    CrashingBackend.handed, CrashingBackend.crash_at = [], crash_at


@pytest.mark.django_db
def test_a_merchant_alert_in_doubt_is_sent_again_with_the_same_message_id(
    alpha, crashing, settings
):
    messages, in_doubt = crash_then_recover(settings, alpha, 4, Audience.MERCHANT)
    assert len(mail.outbox) == 3  # one before the crash, two after it
    assert sending.fail_stale_sends(now=AFTER_STALE - timedelta(minutes=2)) == 0  # not yet
    assert sending.fail_stale_sends(now=AFTER_STALE) == 1
    in_doubt.refresh_from_db()
    assert (in_doubt.status, in_doubt.error_code) == ("scheduled", ErrorCode.IN_DOUBT)
    assert sending.send_due(now=AFTER_STALE).sent == 1
    in_doubt.refresh_from_db()
    # Sent, and still marked: the merchant may have two copies.
    assert (in_doubt.status, in_doubt.error_code) == ("sent", ErrorCode.IN_DOUBT)
    assert in_doubt.attempts == 2
    resent = mail.outbox[-1]
    assert resent.extra_headers["X-Aftersale-Message"] == str(in_doubt.pk)
    # The copy that may have gone carried the same Message-ID: recognisably one message.
    first_try = CrashingBackend.handed[1]
    assert first_try["X-Aftersale-Message"] == str(in_doubt.pk)
    assert resent.extra_headers["Message-ID"] == first_try["Message-ID"]
    # Every message reached the merchant at least once; only the one in doubt went twice.
    sent = [email.extra_headers["X-Aftersale-Message"] for email in mail.outbox]
    assert sorted(sent) == sorted(str(m.pk) for m in messages)


@pytest.mark.django_db
def test_which_audiences_get_a_message_in_doubt_again_is_a_setting(alpha, crashing, settings):
    settings.EMAIL_RESEND_IN_DOUBT = ["buyer"]
    _, buyers = crash_then_recover(settings, alpha, 3)
    crash_again(settings, crash_at=1)
    _, merchants = crash_then_recover(settings, alpha, 3, Audience.MERCHANT)
    assert sending.fail_stale_sends(now=AFTER_STALE) == 2
    buyers.refresh_from_db()
    merchants.refresh_from_db()
    assert (buyers.status, buyers.error_code) == ("scheduled", ErrorCode.IN_DOUBT)
    assert (merchants.status, merchants.error_code) == ("failed", ErrorCode.STALE_SEND)


@pytest.mark.django_db
def test_a_message_that_kills_its_worker_every_time_is_not_retried_forever(
    alpha, crashing, settings
):
    _, in_doubt = crash_then_recover(settings, alpha, 2, Audience.MERCHANT)
    Message.objects.for_storefront(alpha.storefront).filter(pk=in_doubt.pk).update(
        attempts=sending.MAX_ATTEMPTS
    )
    assert sending.fail_stale_sends(now=AFTER_STALE) == 1
    in_doubt.refresh_from_db()
    assert (in_doubt.status, in_doubt.error_code) == ("failed", ErrorCode.STALE_SEND)


@pytest.mark.django_db
def test_the_emails_log_says_which_messages_may_have_been_sent(
    alpha, alpha_client, crashing, settings
):
    crash_then_recover(settings, alpha, 2)
    crash_again(settings, crash_at=1)
    _, merchant = crash_then_recover(settings, alpha, 2, Audience.MERCHANT)
    sending.fail_stale_sends(now=AFTER_STALE)
    body = alpha_client.get("/app/alpha/messages/").content.decode()
    assert str(ErrorCode.STALE_SEND.label) in body
    assert "may already have reached the recipient" in body
    assert body.count("may receive it twice") == 1
    page = alpha_client.get(f"/app/alpha/messages/{merchant.pk}/").content.decode()
    assert "may receive it twice" in page


@pytest.mark.django_db
def test_a_message_in_doubt_the_esp_reported_on_is_marked_sent_not_sent_again(
    alpha, crashing, settings
):
    """The ESP took the email before the worker died (its tracking webhook says so, naming the
    message through the metadata it carried): it was sent, and is not sent again."""
    _, in_doubt = crash_then_recover(settings, alpha, 2, Audience.MERCHANT)
    delivered = AnymailTrackingEvent(
        event_type=EventType.DELIVERED,
        message_id="esp-id-never-kept",
        event_id="esp-event-1",
        timestamp=NOON_PARIS + timedelta(seconds=3),
        metadata=sending.esp_metadata(in_doubt),
    )
    assert record_esp_event(esp="postmark", event=delivered) is True
    assert sending.fail_stale_sends(now=AFTER_STALE) == 1
    in_doubt.refresh_from_db()
    assert (in_doubt.status, in_doubt.error_code, in_doubt.delivery) == ("sent", "", "delivered")
    assert in_doubt.sent_at == NOON_PARIS
    assert sending.send_due(now=AFTER_STALE).claimed == 0
    assert len(mail.outbox) == 1  # the message sent before the crash; none again


@pytest.mark.django_db
def test_an_esp_event_without_our_token_never_settles_a_message_in_doubt(alpha, crashing, settings):
    _, in_doubt = crash_then_recover(settings, alpha, 2, Audience.MERCHANT)
    forged = AnymailTrackingEvent(
        event_type=EventType.DELIVERED,
        message_id="esp-id-never-kept",
        event_id="esp-event-2",
        metadata={"storefront": alpha.storefront.public_id, "message": str(in_doubt.pk)},
    )
    assert record_esp_event(esp="postmark", event=forged) is False
    assert sending.fail_stale_sends(now=AFTER_STALE) == 1
    in_doubt.refresh_from_db()
    assert (in_doubt.status, in_doubt.error_code) == ("scheduled", ErrorCode.IN_DOUBT)


def test_the_setting_names_audiences_only(settings):
    from notifications.checks import check_resend_in_doubt

    settings.EMAIL_RESEND_IN_DOUBT = ["merchant", "buyer"]
    assert check_resend_in_doubt() == []
    settings.EMAIL_RESEND_IN_DOUBT = []
    assert check_resend_in_doubt() == []
    settings.EMAIL_RESEND_IN_DOUBT = ["merchants"]
    assert [error.id for error in check_resend_in_doubt()] == ["notifications.E002"]
