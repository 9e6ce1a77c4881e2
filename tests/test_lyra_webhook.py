"""The Lyra webhook edge (PayZen, Systempay, Sogecommerce, Scellius): both IPN kinds verified
against any active secret, stored raw once, 200 back; the worker makes lost sales of them."""

from datetime import UTC, datetime, timedelta

import pytest

from inbound import services as inbound
from inbound.models import InboundEvent
from notifications.models import Message
from payments.models import LostSale, Payment
from payments.providers.lyra import samples
from payments.services import ingest
from storefront_settings.services.credentials import add_provider_secret, revoke_provider_secret
from tests.conftest import wait_for
from tests.test_provider_lyra import KEY, OLD_KEY, OLD_PASSWORD, PASSWORD

T0 = datetime(2025, 11, 20, 9, 0, tzinfo=UTC)
ORDER = samples.Order(
    "ML-4001", 8900, email="camille.martin@example.com", first_name="Camille", last_name="Martin"
)
REFUSED_UUID = "5b2ff0c4e5a14f5d9f5e1a2b3c4d5e6f"
PAID_UUID = "1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6"


def refused_rest(secret=PASSWORD, code="51", at=T0):
    return samples.rest_request(
        samples.refused_rest(ORDER, uuid=REFUSED_UUID, at=at, code=code), secret
    )


def refused_form(secret=KEY, code="51", at=T0):
    fields = samples.refused_form(ORDER, uuid=REFUSED_UUID, trans_id="400001", at=at, code=code)
    return samples.form_request(fields, secret)


def paid_form(secret=KEY, at=T0 + timedelta(minutes=30)):
    fields = samples.paid_form(ORDER, uuid=PAID_UUID, trans_id="400002", at=at)
    return samples.form_request(fields, secret)


@pytest.fixture
def shop(alpha):
    """Alpha, connected to Lyra with its REST API password and its form key."""
    add_provider_secret(storefront=alpha.storefront, provider="lyra", secret=PASSWORD)
    add_provider_secret(storefront=alpha.storefront, provider="lyra", secret=KEY)
    return alpha


def post(client, storefront, signed):
    return client.post(
        f"/webhooks/lyra/{storefront.public_id}/",
        data=signed.body,
        content_type=signed.headers["Content-Type"],
    )


def stored(tenant):
    return InboundEvent.objects.for_storefront(tenant.storefront)


def process_all(tenant):
    for event in stored(tenant).order_by("pk"):
        ingest.process_inbound_event(event_id=event.pk)


def recovery_messages(tenant):
    return Message.objects.for_storefront(tenant.storefront).filter(kind="payment_recovery")


# --- The edge -----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("make", "event_type"),
    [(refused_rest, "rest.REFUSED"), (refused_form, "form.REFUSED")],
    ids=["rest", "form"],
)
def test_a_signed_ipn_is_stored_raw_and_acknowledged(client, shop, make, event_type):
    signed = make()
    response = post(client, shop.storefront, signed)
    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False}
    event = stored(shop).get()
    assert (event.provider, event.event_id, event.event_type, event.status) == (
        "lyra",
        f"{REFUSED_UUID}:REFUSED",
        event_type,
        "received",
    )
    assert event.body == signed.body.decode()
    assert event.headers["Content-Type"] == "application/x-www-form-urlencoded"


@pytest.mark.django_db
def test_the_same_ipn_twice_is_stored_once(client, shop):
    post(client, shop.storefront, refused_form())
    again = post(client, shop.storefront, refused_form())
    assert again.status_code == 200
    assert again.json() == {"received": True, "duplicate": True}
    # The same refusal in the other integration is the same fact.
    assert post(client, shop.storefront, refused_rest()).json()["duplicate"] is True
    assert stored(shop).count() == 1


def _wrong_key_rest():
    return refused_rest(OLD_PASSWORD)


def _wrong_key_form():
    return refused_form(OLD_KEY)


def _tampered_form():
    signed = refused_form()
    return samples.SignedRequest(signed.body.replace(b"vads_amount=8900", b"vads_amount=1"), {})


def _unsigned_form():
    fields = samples.refused_form(ORDER, uuid=REFUSED_UUID, trans_id="400001", at=T0)
    from urllib.parse import urlencode

    return samples.SignedRequest(urlencode(fields).encode(), {})


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_wrong_key_rest, "no matching signature"),
        (_wrong_key_form, "no matching signature"),
        (_tampered_form, "no matching signature"),
        (_unsigned_form, "not a Lyra notification: no kr-answer or signature"),
    ],
    ids=["rest-wrong-key", "form-wrong-key", "form-tampered", "form-unsigned"],
)
def test_a_bad_signature_is_400_and_stores_nothing(client, shop, make, reason):
    signed = make()
    response = client.post(
        f"/webhooks/lyra/{shop.storefront.public_id}/",
        data=signed.body,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert response.json() == {"error": reason}
    for secret in (PASSWORD, KEY, OLD_PASSWORD, OLD_KEY):
        assert secret not in response.content.decode()
    assert InboundEvent.unscoped.count() == 0


@pytest.mark.django_db
def test_without_an_active_key_it_is_400_no_key_configured(client, alpha):
    response = post(client, alpha.storefront, refused_form())
    assert (response.status_code, response.json()) == (400, {"error": "no key configured"})
    assert InboundEvent.unscoped.count() == 0


@pytest.mark.django_db
def test_any_active_key_verifies_and_a_revoked_one_no_longer_does(client, shop):
    old = add_provider_secret(storefront=shop.storefront, provider="lyra", secret=OLD_KEY)
    assert post(client, shop.storefront, refused_form(OLD_KEY)).status_code == 200
    revoke_provider_secret(storefront=shop.storefront, provider_secret=old)
    later = refused_form(OLD_KEY, at=T0 + timedelta(minutes=1))
    response = post(client, shop.storefront, later)
    assert (response.status_code, response.json()) == (400, {"error": "no matching signature"})
    assert stored(shop).count() == 1
    # The REST password, still active, signs the other integration's IPNs.
    assert post(client, shop.storefront, refused_rest(code="05")).status_code == 200


@pytest.mark.django_db
def test_another_storefronts_url_refuses_this_storefronts_key(client, shop, bravo):
    add_provider_secret(storefront=bravo.storefront, provider="lyra", secret=OLD_KEY)
    for signed in (refused_form(), refused_rest()):
        response = post(client, bravo.storefront, signed)
        assert (response.status_code, response.json()) == (400, {"error": "no matching signature"})
    assert InboundEvent.unscoped.count() == 0


@pytest.mark.django_db
def test_an_unknown_storefront_is_404_and_get_is_405(client, shop):
    response = client.post(
        "/webhooks/lyra/sf_nope/",
        data=refused_form().body,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 404
    assert client.get(f"/webhooks/lyra/{shop.storefront.public_id}/").status_code == 405


# --- The worker ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("make", [refused_rest, refused_form], ids=["rest", "form"])
def test_a_refusal_becomes_a_lost_sale_with_its_reason_and_recovery_emails(client, shop, make):
    post(client, shop.storefront, make())
    event = stored(shop).get()
    assert ingest.process_inbound_event(event_id=event.pk) == "processed"
    sale = LostSale.objects.for_storefront(shop.storefront).get()
    assert (sale.provider, sale.reason, sale.status, sale.order_reference) == (
        "lyra",
        "insufficient_funds",
        "open",
        "ML-4001",
    )
    assert (sale.amount, sale.currency, sale.buyer_email, sale.buyer_name) == (
        8900,
        "EUR",
        "camille.martin@example.com",
        "Camille Martin",
    )
    assert sale.codes["auth_result"] == "51"
    messages = recovery_messages(shop)
    assert messages.count() == 3
    assert set(messages.values_list("status", flat=True)) == {"scheduled"}
    assert set(messages.values_list("to", flat=True)) == {"camille.martin@example.com"}
    # Replayed or duplicated, the event changes nothing more.
    assert ingest.process_inbound_event(event_id=event.pk) == "skipped"
    assert recovery_messages(shop).count() == 3


@pytest.mark.django_db
def test_a_suspected_fraud_is_never_sent_to_the_buyer(client, shop):
    post(client, shop.storefront, refused_form(code="43"))  # stolen card
    process_all(shop)
    assert LostSale.objects.for_storefront(shop.storefront).get().reason == "suspected_fraud"
    assert not recovery_messages(shop).exists()


@pytest.mark.django_db
def test_an_abandoned_payment_page_is_a_lost_sale_of_reason_abandoned(client, shop):
    fields = samples.abandoned_form(ORDER, trans_id="400003", at=T0)
    post(client, shop.storefront, samples.form_request(fields, KEY))
    process_all(shop)
    sale = LostSale.objects.for_storefront(shop.storefront).get()
    assert (sale.reason, sale.buyer_email) == ("abandoned", "camille.martin@example.com")


@pytest.mark.django_db
def test_a_later_payment_recovers_the_sale_and_cancels_its_emails(client, shop):
    post(client, shop.storefront, refused_form())
    process_all(shop)
    post(client, shop.storefront, paid_form())
    process_all(shop)
    sale = LostSale.objects.for_storefront(shop.storefront).get()
    assert (sale.status, sale.recovered_amount) == ("recovered", 8900)
    assert sale.recovered_at == T0 + timedelta(minutes=30)
    assert set(recovery_messages(shop).values_list("status", flat=True)) == {"cancelled"}


@pytest.mark.django_db
def test_the_payment_first_and_the_refusal_after_give_the_same_recovered_sale(client, shop):
    post(client, shop.storefront, paid_form())
    post(client, shop.storefront, refused_rest())
    process_all(shop)  # in the order they came: the success first
    sale = LostSale.objects.for_storefront(shop.storefront).get()
    assert (sale.status, sale.reason, sale.attempts) == ("recovered", "insufficient_funds", 1)
    assert sale.recovered_at == T0 + timedelta(minutes=30)
    assert not recovery_messages(shop).filter(status="scheduled").exists()
    assert Payment.objects.for_storefront(shop.storefront).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("secret", [PASSWORD, KEY], ids=["rest", "form"])
def test_the_test_event_is_accepted_stored_and_changes_nothing(client, shop, secret):
    signed = samples.test_event(shop.storefront, secret, int(T0.timestamp()))
    response = post(client, shop.storefront, signed)
    assert (response.status_code, response.json()) == (200, {"received": True, "duplicate": False})
    event = stored(shop).get()
    assert event.event_type.endswith(".ACCEPTED")
    assert ingest.process_inbound_event(event_id=event.pk) == "ignored"
    assert not Payment.objects.for_storefront(shop.storefront).exists()
    assert not LostSale.objects.for_storefront(shop.storefront).exists()
    assert not Message.objects.for_storefront(shop.storefront).exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_end_to_end_through_the_dispatcher_and_a_worker(client, shop, celery_worker):
    assert post(client, shop.storefront, refused_rest()).status_code == 200
    assert post(client, shop.storefront, paid_form()).status_code == 200
    assert inbound.dispatch() == 2
    wait_for(lambda: not stored(shop).filter(status="received").exists())
    assert set(stored(shop).values_list("status", flat=True)) == {"processed"}
    sale = LostSale.objects.for_storefront(shop.storefront).get()
    assert (sale.provider, sale.reason, sale.status) == ("lyra", "insufficient_funds", "recovered")
