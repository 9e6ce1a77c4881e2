"""ESP tracking webhooks (Postmark's format, through anymail): idempotent, they suppress, and
nobody but the ESP, holding the webhook secret, can tell us anything about any tenant's mail."""

import base64
import json
from datetime import UTC, datetime

import pytest
from django.core import checks, mail

from notifications.checks import check_esp_webhook_secret
from notifications.models import Audience, EmailEvent, Message, Suppression
from notifications.services import sending

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
    sending.send_due(now=NOON_PARIS)
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
    sending.send_due(now=NOON_PARIS)
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
    sending.send_due(now=NOON_PARIS)
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


# --- Attacks ------------------------------------------------------------------------------------


def nothing_recorded():
    return not EmailEvent.unscoped.exists() and not Suppression.unscoped.exists()


def complaint(message_id="", metadata=None, event_id=90):
    return bounce(message_id, "SpamComplaint", event_id) | {
        "RecordType": "SpamComplaint",
        "Metadata": metadata or {},
    }


@pytest.mark.django_db
def test_without_a_webhook_secret_the_endpoints_are_not_mounted(client, sent, settings):
    """The attack that worked: no secret configured, then a complaint naming each sequential
    message id in turn, with no credentials at all."""
    settings.ANYMAIL = {}
    for our_id in range(1, sent.pk + 3):
        response = post(client, complaint(metadata={"message": str(our_id)}), auth="")
        assert response.status_code == 404
    assert post(client, bounce(), auth="").status_code == 404
    assert nothing_recorded()
    sent.refresh_from_db()
    assert sent.delivery == ""


@pytest.mark.django_db
def test_inbound_mail_endpoints_are_never_mounted(client):
    response = client.post(
        "/webhooks/email/postmark/inbound/",
        data="{}",
        content_type="application/json",
        HTTP_AUTHORIZATION=AUTH,
    )
    assert response.status_code == 404


@pytest.mark.django_db
def test_a_sequential_message_id_in_the_metadata_names_nothing(client, sent):
    """With the secret (an ESP account shared by another app, say): metadata that names our
    message by its sequential id, without our token, matches nothing."""
    assert post(client, complaint(metadata={"message": str(sent.pk)})).status_code == 200
    forged = {"message": str(sent.pk), "storefront": sent.storefront.public_id, "token": "0" * 32}
    assert post(client, complaint(metadata=forged, event_id=91)).status_code == 200
    assert nothing_recorded()


@pytest.mark.django_db
def test_metadata_with_our_token_names_the_message(client, sent):
    # An ESP that gives some events no message id of its own: our metadata, token included.
    assert post(client, complaint(metadata=sending.esp_metadata(sent))).status_code == 200
    assert Suppression.objects.for_storefront(sent.storefront).get().reason == "complained"


@pytest.mark.django_db
def test_an_event_naming_another_storefronts_message_changes_nothing(
    client, sent, make_tenant, schedule_message
):
    bravo = make_tenant("Bravo", "whsec_bravobravobravobravo")
    theirs = schedule_message(bravo.storefront, to="other@example.com", idempotency_key="b")
    sending.send_due(now=NOON_PARIS)
    # Alpha's ESP id with Bravo's storefront in the metadata, and the other way round.
    crossed = {"storefront": bravo.storefront.public_id, "message": str(sent.pk)}
    assert post(client, complaint("pm-1", crossed)).status_code == 200
    # Bravo's message id and storefront with a token made for Alpha's message of that id.
    alpha_token = sending.esp_metadata_token(sent.storefront.public_id, theirs.pk)
    stolen = {
        "storefront": bravo.storefront.public_id,
        "message": str(theirs.pk),
        "token": alpha_token,
    }
    assert post(client, complaint(metadata=stolen, event_id=92)).status_code == 200
    assert nothing_recorded()


@pytest.mark.django_db
def test_a_replayed_event_changes_nothing_more(client, sent):
    assert post(client, bounce(bounce_type="Transient", event_id=5)).status_code == 200
    sent.refresh_from_db()
    first = (sent.delivery, sent.delivery_updated_at)
    assert post(client, bounce(bounce_type="Transient", event_id=5)).status_code == 200
    sent.refresh_from_db()
    assert (sent.delivery, sent.delivery_updated_at) == first
    assert EmailEvent.unscoped.count() == 1


def test_a_start_up_check_warns_when_an_esp_has_no_webhook_secret(settings):
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "x"}
    [warning] = check_esp_webhook_secret()
    assert warning.level == checks.WARNING and warning.id == "notifications.W001"
    assert "ANYMAIL_WEBHOOK_SECRET" in warning.msg
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:s3cret-hook"}
    assert check_esp_webhook_secret() == []
    settings.ANYMAIL = {"WEBHOOK_SECRET": "no-colon"}
    [error] = check_esp_webhook_secret()
    assert error.level == checks.ERROR and "no-colon" not in error.msg
    # Django's own backends have no tracking webhooks: nothing to warn about.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.ANYMAIL = {}
    assert check_esp_webhook_secret() == []
