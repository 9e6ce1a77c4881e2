"""The outbox: one message per key, one send per message, retries, cancellation."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from notifications.models import Message
from notifications.services import outbox, sending

# Daytime in Paris, outside the default quiet hours (21:00–08:00).
NOON_PARIS = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)


@pytest.fixture
def storefront(alpha):
    """The outbox works on a storefront; these tests need nothing else of the tenant."""
    return alpha.storefront


def run_in_threads(count, target):
    barrier = threading.Barrier(count)
    errors = []

    def run():
        try:
            barrier.wait()
            target()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_one_key_scheduled_50_times_concurrently_is_one_message_and_one_send(
    storefront, schedule_message
):
    run_in_threads(50, lambda: schedule_message(storefront, idempotency_key="order-1:recovery"))
    assert Message.objects.for_storefront(storefront).count() == 1
    run_in_threads(2, lambda: sending.send_due(now=NOON_PARIS))
    assert len(mail.outbox) == 1
    message = Message.objects.for_storefront(storefront).get()
    assert message.status == Message.Status.SENT
    assert message.attempts == 1


@pytest.mark.django_db
def test_scheduling_again_returns_the_same_row_and_sends_nothing_more(storefront, schedule_message):
    first = schedule_message(storefront, idempotency_key="k")
    sending.send_due(now=NOON_PARIS)
    again = schedule_message(storefront, idempotency_key="k", to="other@example.com")
    sending.send_due(now=NOON_PARIS)
    assert again.pk == first.pk
    assert again.to == "buyer@example.com"
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_send_each_message_once(storefront, schedule_message):
    for n in range(60):
        schedule_message(storefront, to=f"buyer{n}@example.com")
    run_in_threads(2, lambda: sending.send_due(now=NOON_PARIS))
    recipients = [email.to[0] for email in mail.outbox]
    assert len(recipients) == 60
    assert len(set(recipients)) == 60
    assert set(Message.objects.for_storefront(storefront).values_list("status", flat=True)) == {
        "sent"
    }


@pytest.mark.django_db
def test_a_sent_message_keeps_what_was_sent(storefront, schedule_message):
    message = schedule_message(storefront)
    sending.send_due(now=NOON_PARIS)
    message.refresh_from_db()
    email = mail.outbox[0]
    # The storefront's language (French) unless the message names one.
    assert message.subject == email.subject == "Un e-mail de test de Alpha"
    assert message.body_text == email.body
    assert message.body_html == email.alternatives[0].content
    assert message.esp_message_id == email.extra_headers["Message-ID"]
    assert message.sent_at is not None
    assert email.from_email.startswith("Alpha <")


def stored_sealed_column(message) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT sealed FROM notifications_message WHERE id = %s", [message.pk])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_a_sealed_value_reaches_the_email_only(storefront, schedule_message):
    link = "https://shop.example/one-time/s3cr3t-t0ken"
    message = schedule_message(
        storefront, context={"requested_by": "Camille"}, sealed={"settings_url": link}
    )
    # Stored encrypted; every readable field holds the placeholder.
    assert message.context == {"requested_by": "Camille", "settings_url": "[hidden]"}
    assert "s3cr3t" not in stored_sealed_column(message)
    sending.send_due(now=NOON_PARIS)
    email = mail.outbox[0]
    assert link in email.body and link in email.alternatives[0].content
    message.refresh_from_db()
    kept = message.subject + message.body_text + message.body_html + str(message.context)
    assert "s3cr3t" not in kept and "[hidden]" in message.body_text
    # Once sent, the row holds no copy at all.
    assert message.sealed is None and stored_sealed_column(message) is None


@pytest.mark.django_db
def test_a_cancelled_message_drops_its_sealed_values(storefront, schedule_message):
    message = schedule_message(
        storefront, group="g", sealed={"settings_url": "https://x.example/t"}
    )
    assert message.sealed is not None
    outbox.cancel(storefront, "g")
    message.refresh_from_db()
    assert message.status == Message.Status.CANCELLED and message.sealed is None


@pytest.mark.django_db
def test_a_message_in_the_buyers_language(storefront, schedule_message):
    schedule_message(storefront, locale="en")
    sending.send_due(now=NOON_PARIS)
    assert mail.outbox[0].subject == "A test email from Alpha"
    assert "Unsubscribe:" in mail.outbox[0].body


@pytest.mark.django_db
def test_a_message_not_yet_due_waits(storefront, schedule_message):
    schedule_message(storefront, send_at=NOON_PARIS + timedelta(hours=1))
    assert sending.send_due(now=NOON_PARIS).claimed == 0
    assert sending.send_due(now=NOON_PARIS + timedelta(hours=1)).sent == 1


@pytest.mark.django_db
def test_a_cancelled_group_sends_nothing(storefront, schedule_message):
    schedule_message(storefront, group="order-7", send_at=NOON_PARIS)
    schedule_message(storefront, group="order-7", send_at=NOON_PARIS + timedelta(days=1))
    schedule_message(storefront, group="order-8", send_at=NOON_PARIS)
    assert outbox.cancel(storefront, "order-7") == 2
    sending.send_due(now=NOON_PARIS + timedelta(days=2))
    assert [email.to for email in mail.outbox] == [["buyer@example.com"]]
    statuses = (
        Message.objects.for_storefront(storefront).order_by("group").values_list("group", "status")
    )
    assert list(statuses) == [
        ("order-7", "cancelled"),
        ("order-7", "cancelled"),
        ("order-8", "sent"),
    ]


@pytest.mark.django_db
def test_cancel_leaves_another_storefronts_group_alone(two_storefronts, schedule_message):
    alpha, bravo = (tenant.storefront for tenant in two_storefronts)
    schedule_message(bravo, group="order-1")
    assert outbox.cancel(alpha, "order-1") == 0
    assert Message.objects.for_storefront(bravo).get().status == "scheduled"


class FlakyBackend:
    """An email backend that fails its first `failures` sends, then accepts."""

    failures = 0
    calls = 0

    def __init__(self, **kwargs):
        pass

    def open(self):
        return True

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def send_messages(self, messages):
        FlakyBackend.calls += 1
        if FlakyBackend.calls <= FlakyBackend.failures:
            raise ConnectionError("ESP unreachable")
        mail.outbox.extend(messages)
        return len(messages)


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.calls = 0
    return FlakyBackend


@pytest.mark.django_db
def test_a_failed_send_is_retried_with_growing_delays_then_sent(
    storefront, schedule_message, flaky
):
    flaky.failures = 3
    message = schedule_message(storefront)
    now = NOON_PARIS
    delays = []
    for _ in range(3):
        assert sending.send_due(now=now).retried == 1
        message.refresh_from_db()
        assert message.status == "scheduled"
        assert "ConnectionError: ESP unreachable" in message.last_error
        delays.append(message.next_attempt_at - now)
        now = message.next_attempt_at
    # Exponential with jitter: 15–30 s, 30–60 s, 60–120 s.
    assert timedelta(seconds=14) < delays[0] < timedelta(seconds=31)
    assert timedelta(seconds=29) < delays[1] < timedelta(seconds=61)
    assert timedelta(seconds=59) < delays[2] < timedelta(seconds=121)
    assert sending.send_due(now=now).sent == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == ("sent", 4, "")
    assert message.error_code == ""


@pytest.mark.django_db
def test_a_send_failing_every_time_is_marked_failed_with_the_error(
    storefront, schedule_message, flaky
):
    flaky.failures = 100
    message = schedule_message(storefront)
    now = NOON_PARIS
    for _ in range(sending.MAX_ATTEMPTS):
        sending.send_due(now=now)
        message.refresh_from_db()
        now = max(now, message.next_attempt_at)
    assert message.status == "failed"
    assert message.attempts == sending.MAX_ATTEMPTS
    assert message.last_error == "ConnectionError: ESP unreachable"
    assert message.error_code == Message.ErrorCode.ESP_UNREACHABLE
    assert sending.send_due(now=now + timedelta(days=1)).claimed == 0
    assert sending.resend(message) is True
    flaky.failures = 0
    message.refresh_from_db()
    assert message.status == "scheduled"
    # Resent means due at once: the next noon (outside quiet hours) after now sends it.
    next_noon = datetime.combine(
        message.next_attempt_at.date() + timedelta(days=1), NOON_PARIS.time(), tzinfo=UTC
    )
    assert sending.send_due(now=next_noon).sent == 1


@pytest.mark.django_db
def test_a_worker_that_died_mid_send_is_not_retried_but_flagged(storefront, schedule_message):
    message = schedule_message(storefront)
    Message.objects.for_storefront(storefront).filter(pk=message.pk).update(
        status="sending", last_attempt_at=timezone.now() - timedelta(minutes=20), attempts=1
    )
    assert sending.fail_stale_sends() == 1
    message.refresh_from_db()
    assert message.status == "failed"
    assert "may have been sent" in message.last_error
    assert message.error_code == Message.ErrorCode.STALE_SEND
    assert sending.send_due(now=timezone.now()).claimed == 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_schedule_refuses_bad_input(storefront, schedule_message):
    from django.core.exceptions import ValidationError
    from django.template import TemplateDoesNotExist

    with pytest.raises(ValidationError):
        schedule_message(storefront, to="not an email")
    with pytest.raises(TemplateDoesNotExist):
        schedule_message(storefront, template="no_such_template")
    with pytest.raises(ValueError, match="timezone-aware"):
        schedule_message(storefront, send_at=datetime(2026, 1, 1))  # noqa: DTZ001
    assert Message.objects.for_storefront(storefront).count() == 0


@pytest.mark.django_db
def test_the_message_names_what_it_is_about(storefront, schedule_message):
    message = schedule_message(storefront, about=storefront)
    assert message.about == storefront


@pytest.mark.django_db
@override_settings(DEFAULT_FROM_EMAIL="Aftersale <mail@aftersale.example>")
def test_every_email_carries_one_click_unsubscribe(storefront, schedule_message):
    schedule_message(storefront)
    sending.send_due(now=NOON_PARIS)
    headers = mail.outbox[0].extra_headers
    assert headers["List-Unsubscribe"].startswith("<https://aftersale.test/u/")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["Message-ID"].endswith("@aftersale.example>")


@pytest.mark.django_db
def test_through_an_anymail_esp_the_esps_id_metadata_and_tag_are_kept(
    storefront, schedule_message, settings
):
    # anymail's own test ESP: the anymail code path, no network.
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    message = schedule_message(storefront, kind="payment_recovery")
    sending.send_due(now=NOON_PARIS)
    sent = mail.outbox[0]
    metadata = sent.anymail_test_params["metadata"]
    assert metadata == {
        "message": str(message.pk),
        "storefront": storefront.public_id,
        "token": sending.esp_metadata_token(storefront.public_id, message.pk),
    }
    # Unguessable, and different for every message and every storefront.
    assert len(metadata["token"]) == 32
    assert metadata["token"] != sending.esp_metadata_token(storefront.public_id, message.pk + 1)
    assert sent.anymail_test_params["tags"] == ["payment_recovery"]
    message.refresh_from_db()
    assert message.esp_message_id == str(sent.anymail_status.message_id)
