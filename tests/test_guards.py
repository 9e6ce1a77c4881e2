"""Suppression, quiet hours and the daily cap: they delay or stop, and never lose a message."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.core import mail

from notifications.models import Audience, Message, Suppression
from notifications.services import sending, suppressions
from tests.factories import SuppressionFactory

# 2026-11-25: Paris is UTC+1.
NOON_PARIS = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
TEN_PM_PARIS = datetime(2026, 11, 25, 21, 0, tzinfo=UTC)
EIGHT_AM_PARIS_NEXT_DAY = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_a_suppressed_address_gets_nothing(alpha, schedule_message):
    storefront = alpha.storefront
    queued = schedule_message(storefront, to="gone@example.com")
    suppressions.suppress(storefront, "Gone@Example.com", Suppression.Reason.MANUAL)
    later = schedule_message(storefront, to="gone@example.com")
    sending.send_due(now=NOON_PARIS + timedelta(days=3))
    assert mail.outbox == []
    for message in (queued, later):
        message.refresh_from_db()
        assert message.status == "suppressed"
        assert "suppression list" in message.last_error
        assert message.error_code == Message.ErrorCode.SUPPRESSED


@pytest.mark.django_db
def test_a_suppression_added_after_claiming_starts_still_applies_at_send_time(
    alpha, schedule_message
):
    storefront = alpha.storefront
    message = schedule_message(storefront, to="late@example.com")
    SuppressionFactory(storefront=storefront, email="late@example.com")
    report = sending.send_due(now=NOON_PARIS)
    assert (report.suppressed, report.sent) == (1, 0)
    message.refresh_from_db()
    assert message.status == "suppressed"


@pytest.mark.django_db
def test_one_storefronts_suppression_does_not_silence_another(two_storefronts, schedule_message):
    alpha, bravo = (tenant.storefront for tenant in two_storefronts)
    suppressions.suppress(alpha, "buyer@example.com", Suppression.Reason.UNSUBSCRIBED)
    schedule_message(bravo, to="buyer@example.com")
    assert sending.send_due(now=NOON_PARIS).sent == 1


@pytest.mark.django_db
def test_a_merchant_who_turned_alerts_off_gets_no_alert(alpha, schedule_message):
    alpha.membership.receives_alerts = False
    alpha.membership.save()
    message = schedule_message(alpha.storefront, to=alpha.owner.email, audience=Audience.MERCHANT)
    sending.send_due(now=NOON_PARIS)
    assert mail.outbox == []
    message.refresh_from_db()
    assert (message.status, message.last_error) == (
        "suppressed",
        "The member turned off these alerts.",
    )
    assert message.error_code == Message.ErrorCode.OPTED_OUT


@pytest.mark.django_db
def test_quiet_hours_delay_to_the_morning_and_never_drop(alpha, schedule_message):
    message = schedule_message(alpha.storefront, send_at=TEN_PM_PARIS)
    report = sending.send_due(now=TEN_PM_PARIS)
    assert (report.deferred, report.sent) == (1, 0)
    message.refresh_from_db()
    assert message.status == "scheduled"
    assert message.next_attempt_at == EIGHT_AM_PARIS_NEXT_DAY
    assert sending.send_due(now=EIGHT_AM_PARIS_NEXT_DAY - timedelta(minutes=1)).claimed == 0
    assert sending.send_due(now=EIGHT_AM_PARIS_NEXT_DAY).sent == 1


@pytest.mark.django_db
def test_quiet_hours_follow_the_storefront_settings_and_time_zone(alpha, schedule_message):
    storefront = alpha.storefront
    storefront.time_zone = "America/New_York"
    storefront.quiet_hours_start, storefront.quiet_hours_end = time(22, 0), time(7, 0)
    storefront.save()
    # 03:00 UTC is 22:00 in New York: quiet until 07:00 there, 12:00 UTC.
    three_am_utc = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
    message = schedule_message(storefront, send_at=three_am_utc)
    sending.send_due(now=three_am_utc)
    message.refresh_from_db()
    assert message.next_attempt_at == datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_merchant_alerts_are_not_held_by_quiet_hours(alpha, schedule_message):
    schedule_message(alpha.storefront, to=alpha.owner.email, audience=Audience.MERCHANT)
    assert sending.send_due(now=TEN_PM_PARIS).sent == 1


@pytest.mark.django_db
def test_the_daily_cap_delays_the_fourth_message_by_a_day_never_drops_it(alpha, schedule_message):
    storefront = alpha.storefront
    assert storefront.buyer_messages_per_day == 3
    for hour in range(4):
        schedule_message(storefront, send_at=NOON_PARIS + timedelta(hours=hour))
        sending.send_due(now=NOON_PARIS + timedelta(hours=hour))
    assert len(mail.outbox) == 3
    fourth = Message.objects.for_storefront(storefront).get(status="scheduled")
    # The window frees up 24 h after the first of the three was sent.
    assert fourth.next_attempt_at == NOON_PARIS + timedelta(hours=24)
    assert sending.send_due(now=NOON_PARIS + timedelta(hours=24)).sent == 1
    # Other buyers are not affected by one buyer's cap.
    schedule_message(storefront, to="someone.else@example.com", send_at=NOON_PARIS)
    assert sending.send_due(now=NOON_PARIS + timedelta(hours=3)).sent == 1


@pytest.mark.django_db
def test_the_cap_is_a_storefront_setting(alpha, schedule_message):
    storefront = alpha.storefront
    storefront.buyer_messages_per_day = 1
    storefront.save()
    schedule_message(storefront)
    schedule_message(storefront)
    report = sending.send_due(now=NOON_PARIS)
    assert (report.sent, report.deferred) == (1, 1)


def test_quiet_hours_arithmetic():
    from storefront_settings.models import Storefront

    storefront = Storefront(time_zone="Europe/Paris")
    paris = storefront.zone
    at = lambda h, m=0, day=25: datetime(2026, 11, day, h, m, tzinfo=paris)  # noqa: E731
    assert storefront.quiet_hours_end_after(at(20, 59)) is None
    assert storefront.quiet_hours_end_after(at(21, 0)) == at(8, 0, day=26)
    assert storefront.quiet_hours_end_after(at(2, 30)) == at(8, 0)
    assert storefront.quiet_hours_end_after(at(8, 0)) is None
    storefront.quiet_hours_start, storefront.quiet_hours_end = time(12, 0), time(14, 0)
    assert storefront.quiet_hours_end_after(at(13, 0)) == at(14, 0)
    assert storefront.quiet_hours_end_after(at(15, 0)) is None
    storefront.quiet_hours_start = storefront.quiet_hours_end
    assert storefront.quiet_hours_end_after(at(13, 0)) is None
