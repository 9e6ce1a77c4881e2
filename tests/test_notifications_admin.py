from datetime import UTC, datetime

import pytest
from django.urls import reverse

from notifications.models import Message, Suppression

NOON_PARIS = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
CHANGELIST = "admin:notifications_message_changelist"


@pytest.mark.django_db
def test_messages_are_searchable_by_recipient_and_storefront(
    ops, two_storefronts, schedule_message
):
    alpha, bravo = two_storefronts
    schedule_message(alpha.storefront, to="anna@example.com")
    schedule_message(bravo.storefront, to="boris@example.com")
    by_recipient = ops.get(reverse(CHANGELIST), {"q": "anna@"})
    assert [m.to for m in by_recipient.context["cl"].result_list] == ["anna@example.com"]
    by_storefront = ops.get(reverse(CHANGELIST), {"q": "bravo"})
    assert [m.to for m in by_storefront.context["cl"].result_list] == ["boris@example.com"]


@pytest.mark.django_db
def test_ops_resend_a_failed_message_and_cancel_a_scheduled_one(
    ops, two_storefronts, schedule_message
):
    alpha, _ = two_storefronts
    failed = schedule_message(alpha.storefront, to="failed@example.com")
    scheduled = schedule_message(alpha.storefront, to="later@example.com")
    Message.objects.for_storefront(alpha.storefront).filter(pk=failed.pk).update(
        status="failed", last_error="SMTPServerDisconnected"
    )
    ops.post(reverse(CHANGELIST), {"action": "resend_failed", "_selected_action": [failed.pk]})
    ops.post(
        reverse(CHANGELIST), {"action": "cancel_scheduled", "_selected_action": [scheduled.pk]}
    )
    failed.refresh_from_db()
    scheduled.refresh_from_db()
    assert (failed.status, failed.attempts) == ("scheduled", 0)
    assert scheduled.status == "cancelled"


@pytest.mark.django_db
def test_the_message_page_shows_what_was_sent_without_secrets(
    ops, two_storefronts, schedule_message
):
    from notifications.services import sending

    alpha, _ = two_storefronts
    message = schedule_message(alpha.storefront)
    sending.send_due(now=NOON_PARIS)
    response = ops.get(reverse("admin:notifications_message_change", args=[message.pk]))
    assert response.status_code == 200
    assert "Un e-mail de test de Alpha" in response.content.decode()
    assert alpha.stripe_secret.secret not in response.content.decode()


@pytest.mark.django_db
def test_suppressions_are_editable(ops, two_storefronts):
    alpha, _ = two_storefronts
    response = ops.post(
        reverse("admin:notifications_suppression_add"),
        {"storefront": alpha.storefront.pk, "email": "Someone@Example.com", "reason": "manual"},
    )
    assert response.status_code == 302
    suppression = Suppression.objects.for_storefront(alpha.storefront).get()
    assert suppression.email == "someone@example.com"
    response = ops.post(
        reverse("admin:notifications_suppression_delete", args=[suppression.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert Suppression.unscoped.count() == 0
