"""The emails pages: the messages log, one message with its preview, the suppression list."""

from datetime import UTC, datetime, timedelta
from importlib import import_module

import pytest
from anymail.signals import AnymailTrackingEvent
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications.events import record_esp_event
from notifications.models import Audience, Message, Suppression
from notifications.services import outbox, sending, suppressions
from payments.models import LostSale
from payments.services import ingest
from storefront_settings.models import AuditLog, Membership
from tests.factories import MembershipFactory
from tests.payments_helpers import signal
from tests.test_outbox import FlakyBackend
from tracking.services import shipments

# Daytime in Paris, outside the default quiet hours (21:00–08:00).
NOON_PARIS = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)


def esp_event(message, event_type, *, event_id, minutes=0, description=""):
    record_esp_event(
        esp="postmark",
        event=AnymailTrackingEvent(
            event_type=event_type,
            event_id=event_id,
            message_id=message.esp_message_id,
            metadata=sending.esp_metadata(message),
            timestamp=NOON_PARIS + timedelta(minutes=minutes),
            description=description,
        ),
    )


def sent(storefront, schedule_message, **fields) -> Message:
    """A message scheduled and sent through the outbox (Django's test mail backend)."""
    message = schedule_message(storefront, **fields)
    sending.send_due(now=NOON_PARIS)
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    return message


@pytest.fixture
def viewer(client, alpha):
    alpha.membership.role = Membership.Role.VIEWER
    alpha.membership.save()
    client.force_login(alpha.owner)
    return client


# The messages log ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_log_shows_this_storefronts_emails_with_status_and_esp_outcome(
    alpha_client, alpha, bravo, schedule_message
):
    delivered = sent(alpha.storefront, schedule_message, to="delivered@example.com")
    esp_event(delivered, "delivered", event_id="e1")
    bounced = sent(alpha.storefront, schedule_message, to="bounced@example.com")
    esp_event(bounced, "bounced", event_id="e2")
    schedule_message(
        alpha.storefront, to="later@example.com", send_at=NOON_PARIS + timedelta(days=2)
    )
    schedule_message(bravo.storefront, to="theirs@example.com")

    response = alpha_client.get("/app/alpha/messages/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "delivered@example.com" in body and "later@example.com" in body
    assert "theirs@example.com" not in body
    assert "Test email" in body  # the template in plain words, not "test_message"
    assert '<span class="badge good">Delivered</span>' in body
    assert '<span class="badge bad">Bounced</span>' in body
    assert '<span class="badge ">Scheduled</span>' in body
    assert f'href="/app/alpha/messages/{delivered.pk}/"' in body
    assert 'href="/app/alpha/suppressions/"' in body
    # Newest first: the one due in two days comes before those sent today.
    assert body.index("later@example.com") < body.index("delivered@example.com")


@pytest.mark.django_db
def test_the_log_names_what_each_email_is_about_with_a_link(alpha_client, alpha):
    ingest.apply_signal(storefront=alpha.storefront, signal=signal())
    sale = LostSale.objects.for_storefront(alpha.storefront).get()
    shipment = shipments.create_shipment(
        alpha.storefront,
        shipments.NewShipment(
            order_reference="SHIP-7",
            buyer_email="parcel@example.com",
            tracking_number="1Z999AA10123456784",
        ),
    )

    body = alpha_client.get("/app/alpha/messages/").content.decode()

    assert f'href="/app/alpha/lost-sales/{sale.pk}/">Lost sale ML-1</a>' in body
    assert f'href="/app/alpha/shipments/{shipment.pk}/">Shipment SHIP-7</a>' in body
    assert "Payment recovery: Insufficient funds" in body
    assert "email 1 of 3" in body and "email 3 of 3" in body
    assert "Shipment: on its way, with the tracking link" in body
    assert "Alert to your team: a payment failed" in body


def shown(response, *addresses) -> set[str]:
    body = response.content.decode()
    return {address for address in addresses if f"<td>{address}<br>" in body}


@pytest.mark.django_db
def test_every_filter_narrows_the_log(alpha_client, alpha, schedule_message):
    now = timezone.now()
    clicked = sent(alpha.storefront, schedule_message, to="clicked@example.com")
    esp_event(clicked, "delivered", event_id="c1")
    esp_event(clicked, "clicked", event_id="c2", minutes=5)
    sent(alpha.storefront, schedule_message, to="quiet@example.com")  # no ESP news
    cancelled = schedule_message(alpha.storefront, to="cancelled@example.com", group="g1")
    outbox.cancel(alpha.storefront, "g1")
    schedule_message(
        alpha.storefront,
        to="member@example.com",
        audience=Audience.MERCHANT,
        kind="merchant_failed_payment_alert",
        send_at=now - timedelta(days=2),
    )
    schedule_message(alpha.storefront, to="old@example.com", send_at=now - timedelta(days=40))
    everyone = (
        "clicked@example.com",
        "quiet@example.com",
        "cancelled@example.com",
        "member@example.com",
        "old@example.com",
    )
    cancelled.refresh_from_db()
    assert cancelled.status == Message.Status.CANCELLED

    def log(**params):
        response = alpha_client.get("/app/alpha/messages/", params)
        assert response.status_code == 200, response.content.decode()
        return shown(response, *everyone)

    assert log() == set(everyone)
    assert log(status="cancelled") == {"cancelled@example.com"}
    assert log(status="sent") == {"clicked@example.com", "quiet@example.com"}
    assert log(outcome="delivered") == {"clicked@example.com"}  # clicked implies delivered
    assert log(outcome="clicked") == {"clicked@example.com"}
    assert log(outcome="none") == {"quiet@example.com"}
    assert log(outcome="bounced") == set()
    assert log(audience="merchant") == {"member@example.com"}
    assert log(kind="merchant_failed_payment_alert") == {"member@example.com"}
    assert log(template="test_message") == set(everyone)
    assert log(template="shipment_delivered") == set()
    assert log(q="  CLICKED@example ") == {"clicked@example.com"}
    assert "old@example.com" not in log(period="30")
    assert "member@example.com" in log(period="7")
    assert log(period="90") == set(everyone)
    old_day = (now - timedelta(days=40)).astimezone(alpha.storefront.zone).date()
    assert log(**{"from": old_day.isoformat(), "to": old_day.isoformat()}) == {"old@example.com"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"status": "lost"}, "Select a valid choice"),
        ({"outcome": "read"}, "Select a valid choice"),
        ({"period": "12"}, "Select a valid choice"),
        ({"from": "2026-13-01"}, "Enter a valid date"),
        ({"from": "2026-11-20", "to": "2026-11-01"}, "The end date is before the start date."),
        ({"period": "7", "from": "2026-11-01"}, "Choose a period or dates, not both."),
    ],
)
def test_a_bad_filter_is_a_400_that_says_why(alpha_client, alpha, schedule_message, params, words):
    schedule_message(alpha.storefront, to="someone@example.com")
    response = alpha_client.get("/app/alpha/messages/", params)
    assert response.status_code == 400
    body = response.content.decode()
    assert words in body
    assert "This filter cannot be applied" in body
    assert "<td>someone@example.com<br>" not in body


@pytest.mark.django_db
def test_pages_keep_the_filters(alpha_client, alpha, schedule_message):
    for number in range(30):
        schedule_message(
            alpha.storefront,
            to=f"buyer{number:02}@example.com",
            send_at=NOON_PARIS - timedelta(minutes=number),
        )
    schedule_message(alpha.storefront, to="merchant@example.com", audience=Audience.MERCHANT)

    first = alpha_client.get("/app/alpha/messages/", {"audience": "buyer"})
    body = first.content.decode()
    assert "Page 1 of 2 (30 emails)" in body
    assert 'href="?audience=buyer&amp;page=2"' in body
    assert "buyer00@example.com" in body and "buyer29@example.com" not in body

    second = alpha_client.get(
        "/app/alpha/messages/", {"audience": "buyer", "page": "2"}
    ).content.decode()
    assert "buyer29@example.com" in second and "buyer00@example.com" not in second
    assert "merchant@example.com" not in second
    assert 'href="?audience=buyer&amp;page=1"' in second


@pytest.mark.django_db
def test_the_log_costs_the_same_queries_for_5_or_25_emails(alpha_client, alpha):
    def make_sales(first, count):
        for number in range(first, first + count):
            ingest.apply_signal(
                storefront=alpha.storefront,
                signal=signal(order_reference=f"ML-{number}", payment_id=f"pi_{number}"),
            )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert alpha_client.get("/app/alpha/messages/").status_code == 200
        return len(captured)

    make_sales(0, 2)  # 2 sales: 3 recovery emails and an alert each
    alpha_client.get("/app/alpha/messages/")  # warm the content type cache
    few = queries()
    make_sales(2, 10)
    assert Message.objects.for_storefront(alpha.storefront).count() > 25
    assert queries() == few
    # Session, user, membership with its storefront, the count, the page, the lost sales linked.
    assert few == 6


# One message --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_scheduled_message_is_previewed_in_its_own_language(
    alpha_client, alpha, schedule_message
):
    alpha.storefront.support_email = "help@alpha.example"
    alpha.storefront.save()
    french = schedule_message(alpha.storefront, to="camille@example.com", locale="fr")
    english = schedule_message(alpha.storefront, to="sam@example.com", locale="en")

    page = alpha_client.get(f"/app/alpha/messages/{french.pk}/")

    assert page.status_code == 200
    body = page.content.decode()
    assert "Un e-mail de test de Alpha" in body  # the subject, rendered in French
    assert "Voici comment vos acheteurs voient les e-mails" in body  # the plain-text part
    assert "help@alpha.example" in body  # Reply-To
    assert "Alpha &lt;" in body  # From: the shop's name on the platform's address
    assert f'src="/app/alpha/messages/{french.pk}/preview/"' in body
    assert "sandbox" in body

    html = alpha_client.get(f"/app/alpha/messages/{french.pk}/preview/")
    assert html.status_code == 200
    assert "Voici comment vos acheteurs voient les e-mails" in html.content.decode()
    assert "a { pointer-events: none" in html.content.decode()

    english_page = alpha_client.get(f"/app/alpha/messages/{english.pk}/").content.decode()
    assert "A test email from Alpha" in english_page
    assert "This is how your buyers see the emails" in english_page


@pytest.mark.django_db
def test_a_sent_message_shows_what_was_sent_and_its_esp_timeline(
    alpha_client, alpha, schedule_message
):
    message = sent(alpha.storefront, schedule_message, to="camille@example.com", locale="en")
    # What was sent stays what is shown, whatever the template says today.
    Message.objects.for_storefront(alpha.storefront).filter(pk=message.pk).update(
        body_html=message.body_html.replace("Hello Camille", "Hello Camille, as sent"),
        body_text=message.body_text.replace("Hello Camille", "Hello Camille, as sent"),
    )
    esp_event(message, "delivered", event_id="d1", minutes=1)
    esp_event(message, "opened", event_id="d2", minutes=9)

    body = alpha_client.get(f"/app/alpha/messages/{message.pk}/").content.decode()

    assert "As it was sent." in body
    assert "Hello Camille, as sent" in body
    assert "Delivered to the recipient&#x27;s mail server" in body
    assert body.index("Delivered to the recipient") < body.index("Opened</li>")
    # Times in the storefront's zone: 11:01 UTC is 12:01 in Paris.
    assert "25 Nov 2026 12:01:00" in body
    assert "1 of 6 at most" in body
    html = alpha_client.get(f"/app/alpha/messages/{message.pk}/preview/").content.decode()
    assert "Hello Camille, as sent" in html


@pytest.mark.django_db
def test_the_preview_has_a_policy_of_its_own_and_may_be_framed_by_our_pages_only(
    alpha_client, alpha, schedule_message
):
    message = schedule_message(alpha.storefront)
    response = alpha_client.get(f"/app/alpha/messages/{message.pk}/preview/")
    policy = response["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in policy
    assert "sandbox" in policy
    assert "default-src 'none'" in policy
    assert "script-src" not in policy  # default-src 'none' forbids every script
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    # The page itself stays unframeable.
    page = alpha_client.get(f"/app/alpha/messages/{message.pk}/")
    assert page["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]


@pytest.mark.django_db
def test_the_last_error_is_told_in_plain_words_without_the_raw_text(
    alpha_client, alpha, schedule_message
):
    message = schedule_message(alpha.storefront)
    Message.objects.for_storefront(alpha.storefront).filter(pk=message.pk).update(
        status=Message.Status.FAILED,
        attempts=6,
        error_code=Message.ErrorCode.ESP_ERROR,
        last_error="AnymailAPIError: Postmark API response 401: bad token pm-secret-0123456789",
    )
    body = alpha_client.get(f"/app/alpha/messages/{message.pk}/").content.decode()
    assert "The email provider answered with an error." in body
    assert "AnymailAPIError" in body
    assert "pm-secret-0123456789" not in body
    assert "6 of 6 at most" in body


@pytest.mark.django_db
def test_a_suppressed_message_says_why_and_links_to_the_list(alpha_client, alpha, schedule_message):
    suppressions.suppress(alpha.storefront, "gone@example.com", Suppression.Reason.UNSUBSCRIBED)
    message = schedule_message(alpha.storefront, to="gone@example.com")
    assert message.status == Message.Status.SUPPRESSED
    body = alpha_client.get(f"/app/alpha/messages/{message.pk}/").content.decode()
    assert "on the suppression list, so nothing was sent" in body
    assert 'href="/app/alpha/suppressions/">suppression list</a>' in body


@pytest.mark.django_db
def test_a_message_whose_template_is_gone_says_so_instead_of_failing(
    alpha_client, alpha, schedule_message
):
    message = schedule_message(alpha.storefront)
    Message.objects.for_storefront(alpha.storefront).filter(pk=message.pk).update(
        template="retired_template"
    )
    page = alpha_client.get(f"/app/alpha/messages/{message.pk}/")
    assert page.status_code == 200
    assert "template is missing or broken, so it cannot be shown" in page.content.decode()
    preview = alpha_client.get(f"/app/alpha/messages/{message.pk}/preview/")
    assert preview.status_code == 200
    assert "retired_template" not in preview.content.decode()
    # The log names it as it is, rather than failing.
    assert "retired_template" in alpha_client.get("/app/alpha/messages/").content.decode()


# Suppressions -------------------------------------------------------------------------------


def suppression_audits(storefront):
    return AuditLog.objects.for_storefront(storefront).filter(action__startswith="suppression.")


def suppression(storefront, email, reason, note=""):
    return suppressions.suppress(storefront, email, reason, note=note)


@pytest.mark.django_db
def test_the_suppression_list_explains_each_reason_and_searches(alpha_client, alpha, bravo):
    suppression(alpha.storefront, "unsub@example.com", Suppression.Reason.UNSUBSCRIBED)
    suppression(alpha.storefront, "bounce@example.com", Suppression.Reason.BOUNCED)
    suppression(bravo.storefront, "theirs@example.com", Suppression.Reason.MANUAL)

    body = alpha_client.get("/app/alpha/suppressions/").content.decode()
    assert "unsub@example.com" in body and "bounce@example.com" in body
    assert "theirs@example.com" not in body
    assert "The buyer unsubscribed" in body
    assert "Cannot be lifted" in body  # the unsubscribe
    assert 'name="confirm"' in body  # the bounce
    assert "Which suppressions can be lifted" in body

    found = alpha_client.get("/app/alpha/suppressions/", {"q": " BOUNCE@"}).content.decode()
    assert "bounce@example.com" in found and "unsub@example.com" not in found


@pytest.mark.django_db
def test_the_suppression_list_pages(alpha_client, alpha):
    for number in range(27):
        suppression(alpha.storefront, f"s{number:02}@example.com", Suppression.Reason.MANUAL)
    first = alpha_client.get("/app/alpha/suppressions/", {"q": "example"}).content.decode()
    assert "Page 1 of 2 (27 addresses)" in first
    assert 'href="?q=example&amp;page=2"' in first
    second = alpha_client.get("/app/alpha/suppressions/", {"q": "example", "page": 2})
    assert second.content.decode().count("<td>s") == 2


@pytest.mark.django_db
def test_staff_add_a_suppression_normalised_and_audited(client, alpha, schedule_message):
    alpha.membership.role = Membership.Role.STAFF
    alpha.membership.save()
    client.force_login(alpha.owner)
    queued = schedule_message(alpha.storefront, to="camille@example.com")

    response = client.post(
        "/app/alpha/suppressions/",
        {"email": "  Camille@Example.COM ", "note": "asked  by phone"},
        follow=True,
    )

    assert response.status_code == 200
    assert "camille@example.com will receive no more buyer emails." in response.content.decode()
    row = Suppression.objects.for_storefront(alpha.storefront).get()
    assert (row.email, row.reason, row.note) == ("camille@example.com", "manual", "asked by phone")
    queued.refresh_from_db()
    assert queued.status == Message.Status.SUPPRESSED
    audit = AuditLog.objects.for_storefront(alpha.storefront).get(action="suppression.added")
    assert audit.actor == alpha.owner
    assert audit.detail == {"email": "camille@example.com", "note": "asked by phone"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"email": "not an address"}, "Enter a valid email address."),
        ({"email": ""}, "This field is required."),
        ({"email": "ok@example.com", "note": "x" * 201}, "at most 200 characters"),
        ({"email": "BOUNCE@example.com"}, "bounce@example.com is already on the list (Bounced)."),
    ],
)
def test_a_bad_or_duplicate_suppression_is_refused_clearly(alpha_client, alpha, data, words):
    suppression(alpha.storefront, "bounce@example.com", Suppression.Reason.BOUNCED)
    response = alpha_client.post("/app/alpha/suppressions/", data)
    assert response.status_code == 400
    assert words in response.content.decode()
    assert Suppression.objects.for_storefront(alpha.storefront).count() == 1
    assert not suppression_audits(alpha.storefront).exists()


@pytest.mark.django_db
def test_a_manual_suppression_is_lifted_audited_and_nothing_is_resent(
    alpha_client, alpha, schedule_message
):
    row = suppression(alpha.storefront, "camille@example.com", Suppression.Reason.MANUAL)
    stopped = schedule_message(alpha.storefront, to="camille@example.com")
    assert stopped.status == Message.Status.SUPPRESSED

    response = alpha_client.post(f"/app/alpha/suppressions/{row.pk}/lift/", follow=True)

    assert response.status_code == 200
    assert "camille@example.com is off the suppression list. Nothing is resent" in (
        response.content.decode()
    )
    assert not Suppression.objects.for_storefront(alpha.storefront).exists()
    stopped.refresh_from_db()
    assert stopped.status == Message.Status.SUPPRESSED  # lifting resends nothing
    audit = AuditLog.objects.for_storefront(alpha.storefront).get(action="suppression.lifted")
    assert audit.detail == {"email": "camille@example.com", "reason": "manual", "confirmed": False}
    assert audit.actor == alpha.owner
    # What is scheduled from now on goes out again.
    later = schedule_message(alpha.storefront, to="camille@example.com")
    assert later.status == Message.Status.SCHEDULED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("unsubscribed", "Only the buyer can decide to receive your emails again"),
        ("complained", "marked one of your emails as spam"),
    ],
)
def test_an_unsubscribe_or_a_complaint_cannot_be_lifted(alpha_client, alpha, reason, words):
    row = suppression(alpha.storefront, "camille@example.com", reason)
    response = alpha_client.post(f"/app/alpha/suppressions/{row.pk}/lift/", {"confirm": "on"})
    assert response.status_code == 409
    assert words in response.content.decode()
    assert Suppression.objects.for_storefront(alpha.storefront).filter(pk=row.pk).exists()
    assert not suppression_audits(alpha.storefront).exists()


@pytest.mark.django_db
def test_a_bounce_is_lifted_only_with_the_confirmation(alpha_client, alpha):
    row = suppression(alpha.storefront, "camille@example.com", Suppression.Reason.BOUNCED)
    url = f"/app/alpha/suppressions/{row.pk}/lift/"

    refused = alpha_client.post(url)
    assert refused.status_code == 400
    assert "Tick the box to confirm" in refused.content.decode()
    assert Suppression.objects.for_storefront(alpha.storefront).filter(pk=row.pk).exists()

    assert alpha_client.post(url, {"confirm": "on"}).status_code == 302
    assert not Suppression.objects.for_storefront(alpha.storefront).exists()
    audit = AuditLog.objects.for_storefront(alpha.storefront).get(action="suppression.lifted")
    assert audit.detail["confirmed"] is True
    assert alpha_client.get(url).status_code == 405


@pytest.mark.django_db
def test_a_viewer_reads_but_cannot_add_or_lift(viewer, alpha):
    row = suppression(alpha.storefront, "camille@example.com", Suppression.Reason.MANUAL)
    page = viewer.get("/app/alpha/suppressions/")
    assert page.status_code == 200
    assert "Add an address" not in page.content.decode()
    assert "/lift/" not in page.content.decode()

    assert viewer.post("/app/alpha/suppressions/", {"email": "new@example.com"}).status_code == 403
    assert viewer.post(f"/app/alpha/suppressions/{row.pk}/lift/").status_code == 403
    assert list(
        Suppression.objects.for_storefront(alpha.storefront).values_list("email", flat=True)
    ) == ["camille@example.com"]
    assert not suppression_audits(alpha.storefront).exists()


# Tenancy ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_url_is_a_404_for_another_storefront_and_its_ids(
    alpha_client, alpha, bravo, schedule_message
):
    theirs = schedule_message(bravo.storefront, to="theirs@example.com")
    their_row = suppression(bravo.storefront, "theirs@example.com", Suppression.Reason.MANUAL)
    mine = schedule_message(alpha.storefront)

    for url in [
        "/app/bravo/messages/",
        f"/app/bravo/messages/{theirs.pk}/",
        f"/app/bravo/messages/{theirs.pk}/preview/",
        f"/app/alpha/messages/{theirs.pk}/",
        f"/app/alpha/messages/{theirs.pk}/preview/",
        f"/app/bravo/messages/{mine.pk}/",
        "/app/bravo/suppressions/",
        "/app/nosuch/messages/",
    ]:
        assert alpha_client.get(url).status_code == 404, url
    for url in [
        "/app/bravo/suppressions/",
        f"/app/bravo/suppressions/{their_row.pk}/lift/",
        f"/app/alpha/suppressions/{their_row.pk}/lift/",
    ]:
        assert (
            alpha_client.post(url, {"email": "x@example.com", "confirm": "on"}).status_code == 404
        )
    assert Suppression.objects.for_storefront(bravo.storefront).filter(pk=their_row.pk).exists()
    assert not Suppression.objects.for_storefront(alpha.storefront).exists()


@pytest.mark.django_db
def test_a_member_of_both_storefronts_sees_each_ones_own(client, alpha, bravo, schedule_message):
    MembershipFactory(storefront=bravo.storefront, user=alpha.owner)
    theirs = schedule_message(bravo.storefront, to="theirs@example.com")
    client.force_login(alpha.owner)
    assert client.get(f"/app/bravo/messages/{theirs.pk}/").status_code == 200
    assert client.get(f"/app/alpha/messages/{theirs.pk}/").status_code == 404


@pytest.mark.django_db
def test_the_pages_ask_for_a_login(client, alpha):
    for url in ["/app/alpha/messages/", "/app/alpha/suppressions/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert "login" in response["Location"]


@pytest.mark.django_db
@pytest.mark.parametrize("code", Message.ErrorCode.values)
def test_the_message_page_explains_every_error_code(alpha_client, alpha, schedule_message, code):
    message = schedule_message(alpha.storefront)
    Message.objects.for_storefront(alpha.storefront).filter(pk=message.pk).update(
        status=Message.Status.FAILED, error_code=code, last_error="SomeError: raw detail 0xdead"
    )
    body = alpha_client.get(f"/app/alpha/messages/{message.pk}/").content.decode()
    words = str(Message.ErrorCode(code).label)
    assert words and words != code
    assert words.replace("'", "&#x27;") in body
    assert "raw detail 0xdead" not in body


@pytest.mark.django_db
def test_the_page_explains_the_stored_code_not_the_english_of_last_error(
    alpha_client, alpha, schedule_message
):
    # The words come from the code alone: an error text that reads like another explanation
    # (as the outbox's notes once were matched) changes nothing.
    message = schedule_message(alpha.storefront)
    Message.objects.for_storefront(alpha.storefront).filter(pk=message.pk).update(
        status=Message.Status.FAILED,
        error_code=Message.ErrorCode.ESP_UNREACHABLE,
        last_error="The address is on the suppression list.",
    )
    body = alpha_client.get(f"/app/alpha/messages/{message.pk}/").content.decode()
    assert "The email provider could not be reached." in body
    assert "so nothing was sent" not in body


@pytest.mark.django_db
def test_a_send_that_failed_stores_a_code_the_page_explains(
    alpha_client, alpha, schedule_message, settings
):
    settings.EMAIL_BACKEND = "tests.test_outbox.FlakyBackend"
    FlakyBackend.calls, FlakyBackend.failures = 0, 100
    message = schedule_message(alpha.storefront)
    sending.send_due(now=NOON_PARIS)
    message.refresh_from_db()
    assert (message.status, message.error_code) == ("scheduled", "esp_unreachable")
    assert message.last_error == "ConnectionError: ESP unreachable"
    body = alpha_client.get(f"/app/alpha/messages/{message.pk}/").content.decode()
    assert "The email provider could not be reached." in body
    assert "It will be tried again automatically." in body
    assert "(technical name: ConnectionError)" in body
    assert "ESP unreachable" not in body


@pytest.mark.django_db
def test_messages_written_before_error_codes_get_the_code_the_page_used_to_read(
    alpha, schedule_message
):
    backfill = import_module("notifications.migrations.0004_message_error_code").backfill
    notes = {
        "The address is on the suppression list.": "suppressed",
        "The member turned off these alerts.": "opted_out",
        "The worker stopped while handing this message to the email provider.": "stale_send",
        "TemplateSyntaxError: bad tag": "template_error",
        "AnymailRecipientsRefused: all refused": "recipient_refused",
        "AnymailAPIError: 401": "esp_error",
        "SMTPServerDisconnected: gone": "esp_unreachable",
        "TimeoutError: timed out": "esp_unreachable",
        "KeyError: 'x'": "unexpected",
        "": "",
    }
    rows = {}
    for note in notes:
        message = schedule_message(alpha.storefront)
        Message.objects.for_storefront(alpha.storefront).filter(pk=message.pk).update(
            status=Message.Status.FAILED, last_error=note, error_code=""
        )
        rows[message.pk] = note
    backfill(apps, None)
    found = dict(Message.objects.for_storefront(alpha.storefront).values_list("pk", "error_code"))
    assert {rows[pk]: found[pk] for pk in rows} == notes
