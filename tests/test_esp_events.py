"""ESP tracking webhooks (Postmark's format, through anymail): idempotent, and they suppress."""

import base64
import json
from datetime import UTC, datetime

import pytest
from django.core import mail

from notifications import services
from notifications.models import Audience, EmailEvent, Message, Suppression

NOON_PARIS = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
URL = "/webhooks/email/postmark/tracking/"
AUTH = "Basic " + base64.b64encode(b"hook:s3cret-hook").decode()


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:s3cret-hook"}


@pytest.fixture
def sent(make_tenant, schedule_message):
    """A buyer message sent through an ESP that gave it the id 'pm-1'."""
    tenant = make_tenant("Alpha", "whsec_alphaalphaalphaalpha")
    message = schedule_message(tenant.storefront, to="buyer@example.com")
    services.send_due(now=NOON_PARIS)
    Message.objects.for_storefront(tenant.storefront).filter(pk=message.pk).update(
        esp_message_id="pm-1"
    )
    message.refresh_from_db()
    return message


def bounce(message_id="pm-1", bounce_type="HardBounce", event_id=4323372036854775807):
    return {
        "RecordType": "Bounce",
        "ID": event_id,
        "Type": bounce_type,
        "TypeCode": 1,
        "MessageID": message_id,
        "Description": "The server was unable to deliver your message.",
        "Details": "smtp;550 5.1.1 The email account does not exist.",
        "Email": "buyer@example.com",
        "BouncedAt": "2026-11-25T11:02:00Z",
        "Metadata": {},
        "MessageStream": "outbound",
    }


def post(client, payload, auth=AUTH):
    return client.post(
        URL, data=json.dumps(payload), content_type="application/json", HTTP_AUTHORIZATION=auth
    )


@pytest.mark.django_db
def test_a_bounce_delivered_twice_records_one_event_and_one_suppression(client, sent):
    assert post(client, bounce()).status_code == 200
    assert post(client, bounce()).status_code == 200
    storefront = sent.storefront
    assert EmailEvent.objects.for_storefront(storefront).count() == 1
    suppression = Suppression.objects.for_storefront(storefront).get()
    assert (suppression.email, suppression.reason) == ("buyer@example.com", "bounced")
    sent.refresh_from_db()
    assert sent.delivery == "bounced"


@pytest.mark.django_db
def test_later_mail_to_a_bounced_address_is_suppressed(client, sent, schedule_message):
    post(client, bounce())
    schedule_message(sent.storefront, to="buyer@example.com", idempotency_key="next")
    services.send_due(now=NOON_PARIS)
    assert len(mail.outbox) == 1  # the first message only


@pytest.mark.django_db
def test_delivery_then_open_move_the_status_forward_never_back(client, sent):
    delivery = {
        "RecordType": "Delivery",
        "MessageID": "pm-1",
        "Recipient": "buyer@example.com",
        "DeliveredAt": "2026-11-25T11:01:00Z",
        "Details": "Test delivery",
        "Metadata": {"message": str(sent.pk)},
    }
    opened = {
        "RecordType": "Open",
        "MessageID": "pm-1",
        "Recipient": "buyer@example.com",
        "ReceivedAt": "2026-11-25T11:05:00Z",
        "FirstOpen": True,
        "Metadata": {},
    }
    post(client, delivery)
    post(client, opened)
    post(client, delivery | {"DeliveredAt": "2026-11-25T11:06:00Z"})
    sent.refresh_from_db()
    assert sent.delivery == "opened"
    assert Suppression.objects.for_storefront(sent.storefront).count() == 0


@pytest.mark.django_db
def test_a_spam_complaint_suppresses(client, sent):
    complaint = bounce(bounce_type="SpamComplaint", event_id=77) | {"RecordType": "SpamComplaint"}
    post(client, complaint)
    assert Suppression.objects.for_storefront(sent.storefront).get().reason == "complained"


@pytest.mark.django_db
def test_a_transient_bounce_does_not_suppress(client, sent):
    post(client, bounce(bounce_type="Transient", event_id=78))
    assert Suppression.objects.for_storefront(sent.storefront).count() == 0
    sent.refresh_from_db()
    assert sent.delivery == "deferred"


@pytest.mark.django_db
def test_a_merchant_complaint_turns_their_alerts_off_without_suppressing(
    client, make_tenant, schedule_message
):
    tenant = make_tenant("Alpha", "whsec_alphaalphaalphaalpha")
    message = schedule_message(tenant.storefront, to=tenant.owner.email, audience=Audience.MERCHANT)
    services.send_due(now=NOON_PARIS)
    Message.objects.for_storefront(tenant.storefront).filter(pk=message.pk).update(
        esp_message_id="pm-9"
    )
    post(client, bounce("pm-9", "SpamComplaint", 79) | {"RecordType": "SpamComplaint"})
    tenant.membership.refresh_from_db()
    assert tenant.membership.receives_alerts is False
    assert Suppression.objects.for_storefront(tenant.storefront).count() == 0


@pytest.mark.django_db
def test_an_event_for_an_unknown_message_is_acknowledged_and_ignored(client, sent):
    assert post(client, bounce(message_id="not-ours")).status_code == 200
    assert EmailEvent.unscoped.count() == 0
    assert Suppression.unscoped.count() == 0


@pytest.mark.django_db
def test_the_webhook_needs_its_secret(client, sent):
    wrong = "Basic " + base64.b64encode(b"hook:guess").decode()
    assert post(client, bounce(), auth=wrong).status_code == 400
    assert post(client, bounce(), auth="").status_code == 400
    assert EmailEvent.unscoped.count() == 0
