from datetime import UTC, datetime

import pytest
from django.core import mail

from notifications.models import Audience, Suppression
from notifications.rendering import unsubscribe_token
from notifications.services import sending

NOON_PARIS = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)


def link_of(email):
    header = email.extra_headers["List-Unsubscribe"]
    return header.strip("<>").removeprefix("https://aftersale.test")


@pytest.fixture
def link(alpha, schedule_message):
    schedule_message(alpha.storefront, to="buyer@example.com", locale="fr")
    sending.send_due(now=NOON_PARIS)
    return link_of(mail.outbox[0])


@pytest.mark.django_db
def test_get_on_the_link_changes_nothing(client, alpha, link):
    response = client.get(link)
    assert response.status_code == 200
    assert "buyer@example.com" in response.content.decode()
    assert b'<form method="post">' in response.content
    assert Suppression.objects.for_storefront(alpha.storefront).count() == 0
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_the_page_speaks_the_message_language(client, link):
    assert "Se désabonner" in client.get(link).content.decode()


@pytest.mark.django_db
def test_post_unsubscribes_without_a_csrf_token(client, alpha, link, schedule_message):
    # RFC 8058: the mail client posts "List-Unsubscribe=One-Click" with no cookie.
    response = client.post(link, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    suppression = Suppression.objects.for_storefront(alpha.storefront).get()
    assert (suppression.email, suppression.reason) == ("buyer@example.com", "unsubscribed")
    schedule_message(alpha.storefront, to="buyer@example.com", idempotency_key="after")
    sending.send_due(now=NOON_PARIS)
    assert len(mail.outbox) == 1
    # Posting again is harmless.
    assert client.post(link).status_code == 200
    assert Suppression.objects.for_storefront(alpha.storefront).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["garbage", "eyJzIjoxfQ:forged:signature"])
def test_a_bad_token_is_400_and_changes_nothing(client, alpha, token):
    response = client.post(f"/u/{token}/")
    assert response.status_code == 400
    assert Suppression.unscoped.count() == 0


@pytest.mark.django_db
def test_a_token_for_a_deleted_storefront_is_400(client, alpha):
    token = unsubscribe_token(
        storefront_id=999999, email="x@example.com", audience="buyer", locale="en"
    )
    assert client.get(f"/u/{token}/").status_code == 400


@pytest.mark.django_db
def test_a_merchant_link_turns_off_alerts_for_that_storefront_only(
    client, two_storefronts, schedule_message
):
    alpha, bravo = two_storefronts
    bravo.membership.user = alpha.owner
    bravo.membership.save()
    schedule_message(alpha.storefront, to=alpha.owner.email, audience=Audience.MERCHANT)
    sending.send_due(now=NOON_PARIS)
    response = client.post(link_of(mail.outbox[0]))
    assert response.status_code == 200
    alpha.membership.refresh_from_db()
    bravo.membership.refresh_from_db()
    assert alpha.membership.receives_alerts is False
    assert bravo.membership.receives_alerts is True
    assert Suppression.unscoped.count() == 0
