"""Recovery delays in minutes: 0 sends the first email at once (a buyer who just failed 3-D Secure
is often still at the screen), through the same guards as every buyer email (quiet hours, the
daily cap); the default sequence is 15 minutes, 24 hours, 72 hours; existing storefronts keep
their timing; the settings page takes minutes (or a unit) and the API shows each send time."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from dashboard.views.settings import display_value
from inbound import services as inbound
from notifications.models import Message
from notifications.services import sending
from payments.services import ingest
from storefront_settings.models import AuditAction, RecoveryPolicy
from storefront_settings.models.policies import validate_email_delays
from storefront_settings.services import audit
from tests.conftest import wait_for
from tests.payments_helpers import signal
from tests.test_due_now import no_quiet_hours
from tests.test_stripe_webhook import failed_event, post, sign

# 2026-11-25 in Paris (UTC+1): noon, and 22:00, inside the default quiet hours (21:00–08:00).
NOON_PARIS = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
TEN_PM_PARIS = datetime(2026, 11, 25, 21, 0, tzinfo=UTC)
EIGHT_AM_PARIS_NEXT_DAY = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)


def delays(tenant, minutes: list[int]) -> None:
    policy = RecoveryPolicy.for_storefront(tenant.storefront)
    policy.email_delay_minutes = minutes
    policy.save()


def recovery_emails(tenant):
    return Message.objects.for_storefront(tenant.storefront).filter(kind="payment_recovery")


def first_email(tenant) -> Message:
    return recovery_emails(tenant).get(idempotency_key__endswith=":recovery:1")


@pytest.mark.django_db
def test_a_new_storefront_writes_after_15_minutes_then_24_and_72_hours(alpha):
    assert RecoveryPolicy.for_storefront(alpha.storefront).email_delay_minutes == [15, 1440, 4320]


@pytest.mark.django_db
def test_delays_are_minutes_after_the_first_failure(alpha):
    delays(alpha, [0, 90, 1440])
    ingest.apply_signal(storefront=alpha.storefront, signal=signal(occurred_at=NOON_PARIS))
    sent_at = [m.send_at - NOON_PARIS for m in recovery_emails(alpha).order_by("send_at")]
    assert sent_at == [timedelta(0), timedelta(minutes=90), timedelta(days=1)]


@pytest.mark.django_db
def test_a_first_delay_of_0_is_enqueued_when_the_failure_is_recorded(
    alpha, django_capture_on_commit_callbacks
):
    storefront = alpha.storefront
    storefront.quiet_hours_start = storefront.quiet_hours_end  # none: whatever the clock says
    storefront.save()
    delays(alpha, [0, 1440])
    failed_at = timezone.now() - timedelta(minutes=1)
    with django_capture_on_commit_callbacks() as callbacks:
        ingest.apply_signal(storefront=storefront, signal=signal(occurred_at=failed_at))
    # Due at once: handed to the outbox's on-commit enqueue, not left for the beat tick.
    enqueued = [ids for c in callbacks for ids in getattr(c, "message_ids", [])]
    assert first_email(alpha).pk in enqueued
    second = recovery_emails(alpha).get(idempotency_key__endswith=":recovery:2")
    assert second.pk not in enqueued  # tomorrow's
    # What the task does with them: the same claim and guards as the tick.
    sending.send_now(enqueued)
    assert ["camille@example.com"] in [email.to for email in mail.outbox]
    assert first_email(alpha).status == "sent"


@pytest.mark.django_db
def test_a_first_delay_of_0_still_waits_for_the_end_of_quiet_hours(alpha):
    delays(alpha, [0, 1440])
    ingest.apply_signal(storefront=alpha.storefront, signal=signal(occurred_at=TEN_PM_PARIS))
    message = first_email(alpha)
    assert message.send_at == TEN_PM_PARIS
    report = sending.send_now([message.pk], now=TEN_PM_PARIS)
    assert (report.sent, report.deferred) == (0, 1)
    message.refresh_from_db()
    assert (message.status, message.next_attempt_at) == ("scheduled", EIGHT_AM_PARIS_NEXT_DAY)
    assert mail.outbox == []
    assert sending.send_due(now=EIGHT_AM_PARIS_NEXT_DAY).sent == 1


@pytest.mark.django_db
def test_a_first_delay_of_0_still_respects_the_daily_cap(alpha):
    alpha.storefront.buyer_messages_per_day = 1
    alpha.storefront.save()
    delays(alpha, [0, 1440])
    # The buyer got an email about another order an hour ago.
    earlier = NOON_PARIS - timedelta(hours=1)
    ingest.apply_signal(
        storefront=alpha.storefront,
        signal=signal(order_reference="ML-0", payment_id="pi_0", occurred_at=earlier),
    )
    sending.send_due(now=earlier)
    assert recovery_emails(alpha).filter(status="sent").count() == 1
    ingest.apply_signal(
        storefront=alpha.storefront, signal=signal(payment_id="pi_1", occurred_at=NOON_PARIS)
    )
    message = recovery_emails(alpha).get(
        idempotency_key__endswith=":recovery:1", send_at=NOON_PARIS
    )
    report = sending.send_now([message.pk], now=NOON_PARIS)
    assert (report.sent, report.deferred) == (0, 1)
    message.refresh_from_db()
    assert message.next_attempt_at == earlier + timedelta(hours=24)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_webhook_failure_with_a_0_delay_emails_the_buyer_without_the_beat_tick(
    client, alpha, celery_worker
):
    no_quiet_hours(alpha.storefront)  # "at once" whatever the time of day the test runs at
    delays(alpha, [0, 1440])
    body = json.dumps(failed_event()).encode()
    assert post(client, alpha.storefront, body, sign(body)).status_code == 200
    assert inbound.dispatch() == 1  # the dispatcher's tick; no send_due tick runs here
    recovery = recovery_emails(alpha)
    wait_for(lambda: recovery.filter(status="sent").exists())
    sent = recovery.get(status="sent")
    assert sent.context["step"] == 1
    assert ["camille@example.com"] in [email.to for email in mail.outbox]
    assert recovery.filter(status="scheduled").count() == 1  # the next day's


@pytest.mark.django_db
def test_the_messages_api_shows_each_emails_send_time(client, alpha):
    delays(alpha, [0, 15, 4320])
    ingest.apply_signal(storefront=alpha.storefront, signal=signal(occurred_at=NOON_PARIS))
    body = client.get(
        "/api/v1/messages/",
        {"kind": "payment_recovery"},
        HTTP_AUTHORIZATION=f"Bearer {alpha.raw_api_key}",
    ).json()
    shown = sorted(datetime.fromisoformat(m["send_at"]) for m in body["results"])
    assert shown == [NOON_PARIS + timedelta(minutes=m) for m in (0, 15, 4320)]
    schema = client.get("/api/schema/", {"format": "json"}).json()
    send_at = schema["components"]["schemas"]["Message"]["properties"]["send_at"]
    assert "0 minutes: at once" in send_at["description"]


# --- The model and the settings page ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ([0], None),
        ([0, 15, 4320], None),
        ([], "one to three delays, in minutes"),
        ([15, 0], "in increasing order"),
        ([-1], "in increasing order"),
    ],
)
def test_the_models_own_check(value, error):
    if error is None:
        validate_email_delays(value)
    else:
        with pytest.raises(ValidationError, match=error):
            validate_email_delays(value)


def form_data(**overrides):
    from tests.test_dashboard_settings import recovery_data

    return recovery_data(**overrides)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("0, 24 h, 72 h", [0, 1440, 4320]),
        ("0", [0]),
        ("15, 1440", [15, 1440]),
        ("5 min; 2h / 3 d", [5, 120, 4320]),
        ("90 mn, 2 heures, 2 jours", [90, 120, 2880]),
        ("10 minutes, 1 hour, 3 days", [10, 60, 4320]),
        ("30m, 1H, 2 J", [30, 60, 2880]),
    ],
)
def test_the_page_takes_minutes_or_a_unit(alpha_client, alpha, typed, stored):
    response = alpha_client.post(
        "/app/alpha/settings/recovery/", form_data(email_delay_minutes=typed)
    )
    assert response.status_code == 302
    assert RecoveryPolicy.for_storefront(alpha.storefront).email_delay_minutes == stored


@pytest.mark.django_db
def test_the_page_shows_the_delays_with_their_units_and_says_minutes(alpha_client, alpha):
    page = alpha_client.get("/app/alpha/settings/recovery/").content.decode()
    assert 'value="15 min, 24 h, 72 h"' in page
    assert "When to send the emails (minutes after the failure)" in page
    assert "0 sends the first one right away" in page
    delays(alpha, [0, 90, 1500])
    page = alpha_client.get("/app/alpha/settings/recovery/").content.decode()
    assert 'value="0 min, 90 min, 25 h"' in page


@pytest.mark.django_db
def test_the_audit_log_shows_delays_in_the_unit_they_were_saved_in(alpha_client, alpha):
    storefront = alpha.storefront
    # A row from before the minutes, with its hours under the field's old name.
    audit.record(
        storefront=storefront,
        actor=alpha.owner,
        action=AuditAction.RECOVERY_POLICY_CHANGED,
        changed={"email_delays": {"from": [1, 24, 72], "to": [2, 24]}},
    )
    alpha_client.post(
        "/app/alpha/settings/recovery/", form_data(email_delay_minutes="0, 24 h, 72 h")
    )
    assert display_value("email_delays", [1, 24, 72], storefront) == "1 h, 24 h, 72 h"
    assert display_value("email_delay_minutes", [0, 15, 1440], storefront) == (
        "0 min, 15 min, 24 h"
    )
    page = alpha_client.get("/app/alpha/settings/audit/").content.decode()
    assert "2 h, 24 h" in page
    assert "0 min, 24 h, 72 h" in page
    assert "15 min, 24 h, 72 h" in page  # the new row's old value


# --- The migration ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_existing_storefronts_keep_their_timing(make_tenant):
    before = [("storefront_settings", "0009_connected_accounts")]
    after = [("storefront_settings", "0010_recovery_delays_in_minutes")]
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(before)
        old = executor.loader.project_state(before).apps
        OldPolicy = old.get_model("storefront_settings", "RecoveryPolicy")
        one = make_tenant("Alpha", "whsec_alphaalphaalphaalpha").storefront
        two = make_tenant("Bravo", "whsec_bravobravobravobravo").storefront
        OldPolicy.objects.create(storefront_id=one.pk, email_delays=[1, 24, 72])
        OldPolicy.objects.create(storefront_id=two.pk, email_delays=[2])
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        policy = RecoveryPolicy.objects.for_storefront(one).get()
        assert policy.email_delay_minutes == [60, 1440, 4320]
        assert RecoveryPolicy.objects.for_storefront(two).get().email_delay_minutes == [120]
        # And back: the same hours (a delay under an hour rounds up).
        RecoveryPolicy.objects.for_storefront(two).update(email_delay_minutes=[0, 15, 120])
        executor = MigrationExecutor(connection)
        executor.migrate(before)
        hours = dict(OldPolicy.objects.values_list("storefront_id", "email_delays"))
        assert hours == {one.pk: [1, 24, 72], two.pk: [0, 1, 2]}
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
