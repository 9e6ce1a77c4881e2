"""Tracking webhook edges: verify, store once, and the worker moves the parcel."""

import time

import pytest

from inbound.models import InboundEvent
from storefront_settings.services.credentials import add_provider_secret
from tests.test_tracking_providers import (
    GENERIC_SECRET,
    SECRET,
    aftership_sign,
    easypost_sign,
    generic_headers,
    raw,
)
from tracking.models import Shipment
from tracking.services import ingest, shipments


@pytest.fixture
def shop(make_tenant):
    tenant = make_tenant("Aurora", "whsec_auroraauroraaurora")
    for provider, secret in (
        ("easypost", SECRET),
        ("aftership", SECRET),
        ("generic", GENERIC_SECRET),
    ):
        add_provider_secret(storefront=tenant.storefront, provider=provider, secret=secret)
    return tenant


def make_shipment(tenant, number, carrier=""):
    return shipments.create_shipment(
        tenant.storefront,
        shipments.NewShipment(
            order_reference="ML-1",
            buyer_email="camille@example.com",
            tracking_number=number,
            carrier=carrier,
        ),
    )


def post(client, tenant, provider, body, **headers):
    return client.post(
        f"/webhooks/{provider}/{tenant.storefront.public_id}/",
        data=body,
        content_type="application/json",
        **headers,
    )


def events(tenant):
    return InboundEvent.objects.for_storefront(tenant.storefront)


def process_all(tenant):
    return [ingest.process_inbound_event(event_id=e.pk) for e in events(tenant)]


@pytest.mark.django_db
def test_an_easypost_update_moves_the_shipment(client, shop):
    make_shipment(shop, "9400111206213859123456", "usps")
    body = raw("easypost", "tracker.updated.json")
    response = post(client, shop, "easypost", body, HTTP_X_HMAC_SIGNATURE=easypost_sign(body))
    assert response.status_code == 200
    assert post(client, shop, "easypost", body, HTTP_X_HMAC_SIGNATURE=easypost_sign(body)).json()[
        "duplicate"
    ]
    assert events(shop).count() == 1
    assert process_all(shop) == ["processed"]
    shipment = Shipment.objects.for_storefront(shop.storefront).get()
    assert shipment.status == "delivered"
    assert shipment.checkpoints.count() >= 3


@pytest.mark.django_db
def test_an_aftership_update_moves_the_shipment(client, shop):
    make_shipment(shop, "6A25098765432")
    body = raw("aftership", "tracking_update.delivered.json")
    response = post(
        client, shop, "aftership", body, HTTP_AFTERSHIP_HMAC_SHA256=aftership_sign(body)
    )
    assert response.status_code == 200
    assert process_all(shop) == ["processed"]
    assert Shipment.objects.for_storefront(shop.storefront).get().status == "delivered"


@pytest.mark.django_db
def test_a_generic_update_signed_with_standard_webhooks(client, shop):
    make_shipment(shop, "MR0045821937", "mondial_relay")
    body = raw("generic", "shipment.updated.json")
    now = int(time.time())
    headers = {
        f"HTTP_{name.upper().replace('-', '_')}": value
        for name, value in generic_headers(body, timestamp=now).items()
        if name != "content-type"
    }
    assert post(client, shop, "generic", body, **headers).status_code == 200
    assert process_all(shop) == ["processed"]
    assert Shipment.objects.for_storefront(shop.storefront).get().status == "available_for_pickup"


@pytest.mark.django_db
@pytest.mark.parametrize("provider", ["easypost", "aftership"])
def test_a_bad_signature_is_400_and_stores_nothing(client, shop, provider):
    body = raw("easypost", "tracker.updated.json")
    header = {"easypost": "HTTP_X_HMAC_SIGNATURE", "aftership": "HTTP_AFTERSHIP_HMAC_SHA256"}
    for value in ("hmac-sha256-hex=00", "", "garbage"):
        response = post(client, shop, provider, body, **{header[provider]: value})
        assert response.status_code == 400
    assert InboundEvent.unscoped.count() == 0


@pytest.mark.django_db
def test_another_storefronts_secret_is_400(client, shop, make_tenant):
    other = make_tenant("Borealis", "whsec_borealisborealisbore")
    add_provider_secret(storefront=other.storefront, provider="easypost", secret="another-secret-1")
    body = raw("easypost", "tracker.updated.json")
    response = post(client, other, "easypost", body, HTTP_X_HMAC_SIGNATURE=easypost_sign(body))
    assert response.status_code == 400
    assert InboundEvent.unscoped.count() == 0


@pytest.mark.django_db
def test_an_update_for_an_unknown_tracking_number_is_kept_and_reported(client, shop):
    body = raw("easypost", "tracker.updated.json")
    post(client, shop, "easypost", body, HTTP_X_HMAC_SIGNATURE=easypost_sign(body))
    assert process_all(shop) == ["unknown"]
    event = events(shop).get()
    assert event.status == "ignored"
    assert "9400111206213859123456" in event.last_error
    # Once the shop records the parcel, replaying the event applies it.
    make_shipment(shop, "9400111206213859123456", "usps")
    from inbound import services as inbound

    inbound.replay(event)
    assert process_all(shop) == ["processed"]
    assert Shipment.objects.for_storefront(shop.storefront).get().status == "delivered"
