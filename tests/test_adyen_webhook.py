"""The Adyen webhook edge: HMAC per item, each item stored once, "[accepted]" back."""

import json

import pytest

from inbound.models import InboundEvent
from payments.models import LostSale
from payments.services import ingest
from storefront_settings.services.credentials import add_provider_secret
from tests.test_provider_adyen import KEY, body, load


def signed_batch(*names, key=KEY):
    return body(*(load(f"{name}.json", key) for name in names))


@pytest.fixture
def shop(make_tenant):
    tenant = make_tenant("Alpha", "whsec_alphaalphaalphaalpha")
    add_provider_secret(storefront=tenant.storefront, provider="adyen", secret=KEY)
    return tenant


def post(client, storefront, body):
    return client.post(
        f"/webhooks/adyen/{storefront.public_id}/", data=body, content_type="application/json"
    )


@pytest.mark.django_db
def test_a_signed_batch_is_stored_item_by_item_and_accepted(client, shop):
    response = post(client, shop.storefront, signed_batch("authorisation.refused", "cancellation"))
    assert response.status_code == 200
    assert response.content == b"[accepted]"
    events = InboundEvent.objects.for_storefront(shop.storefront).order_by("event_type")
    assert [e.event_type for e in events] == ["AUTHORISATION", "CANCELLATION"]
    assert post(client, shop.storefront, signed_batch("authorisation.refused")).status_code == 200
    assert events.count() == 2  # Adyen's retry of the same item is stored once


@pytest.mark.django_db
def test_a_batch_with_one_bad_signature_stores_nothing(client, shop):
    good = json.loads(signed_batch("authorisation.refused"))
    bad = json.loads(signed_batch("cancellation", key="00" * 32))
    good["notificationItems"] += bad["notificationItems"]
    response = post(client, shop.storefront, json.dumps(good).encode())
    assert response.status_code == 400
    assert InboundEvent.unscoped.count() == 0


@pytest.mark.django_db
def test_a_refused_payment_becomes_a_lost_sale_with_its_reason(client, shop):
    post(client, shop.storefront, signed_batch("authorisation.refused"))
    event = InboundEvent.objects.for_storefront(shop.storefront).get()
    assert ingest.process_inbound_event(event_id=event.pk) == "processed"
    sale = LostSale.objects.for_storefront(shop.storefront).get()
    assert (sale.provider, sale.reason) == ("adyen", "insufficient_funds")
