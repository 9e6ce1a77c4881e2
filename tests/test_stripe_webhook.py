"""The Stripe webhook edge: verify, store raw once, acknowledge; the worker does the rest."""

import hashlib
import hmac
import json
import socket
import threading
import time

import pytest
from django.db import connection

from config.celery import app
from inbound import services as inbound
from inbound.models import InboundEvent
from notifications.models import Message
from payments.models import LostSale
from payments.services import ingest
from storefront_settings.services.credentials import add_provider_secret
from tests.conftest import ALPHA_SECRET, reset_broker_connections, wait_for
from tests.factories import ConnectedAccountFactory

SECRET = ALPHA_SECRET  # the `alpha` fixture's Stripe signing secret


def sign(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def failed_event(
    event_id="evt_1", decline_code="insufficient_funds", order="ML-1", payment="pi_1", **extra
):
    return {
        "id": event_id,
        "object": "event",
        "type": "payment_intent.payment_failed",
        "created": int(time.time()) - 60,
        "livemode": False,
        "data": {
            "object": {
                "id": payment,
                "object": "payment_intent",
                "amount": 8900,
                "currency": "eur",
                "metadata": {"order_id": order},
                "receipt_email": "camille@example.com",
                "last_payment_error": {
                    "type": "card_error",
                    "code": "card_declined",
                    "decline_code": decline_code,
                    "payment_method": {
                        "billing_details": {"name": "Camille Martin", "email": None}
                    },
                },
                "latest_charge": f"ch_{payment}",
                "status": "requires_payment_method",
            }
        },
        **extra,
    }


def post(client, storefront, body: bytes, signature: str | None = None, **headers):
    if signature is not None:
        headers["HTTP_STRIPE_SIGNATURE"] = signature
    return client.post(
        f"/webhooks/stripe/{storefront.public_id}/",
        data=body,
        content_type="application/json",
        **headers,
    )


def stored(tenant):
    return InboundEvent.objects.for_storefront(tenant.storefront)


@pytest.mark.django_db
def test_a_signed_event_is_stored_raw_and_acknowledged(client, alpha):
    body = json.dumps(failed_event()).encode()
    response = post(client, alpha.storefront, body, sign(body))
    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False}
    event = stored(alpha).get()
    assert (event.event_id, event.event_type, event.status) == (
        "evt_1",
        "payment_intent.payment_failed",
        "received",
    )
    assert event.body == body.decode()
    assert event.headers["Stripe-Signature"].startswith("t=")


@pytest.mark.django_db
def test_the_same_event_twice_is_stored_once(client, alpha):
    body = json.dumps(failed_event()).encode()
    post(client, alpha.storefront, body, sign(body))
    second = post(client, alpha.storefront, body, sign(body))
    assert second.json() == {"received": True, "duplicate": True}
    assert stored(alpha).count() == 1


@pytest.mark.django_db
def test_any_active_secret_verifies_so_rotation_works(client, alpha):
    add_provider_secret(
        storefront=alpha.storefront, provider="stripe", secret="whsec_newnewnewnewnew1"
    )
    body = json.dumps(failed_event()).encode()
    assert (
        post(client, alpha.storefront, body, sign(body, "whsec_newnewnewnewnew1")).status_code
        == 200
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("make_signature", "body"),
    [
        (lambda b: sign(b, "whsec_wrongwrongwrongwrong"), json.dumps(failed_event()).encode()),
        (lambda b: None, json.dumps(failed_event()).encode()),
        (lambda b: "garbage", json.dumps(failed_event()).encode()),
        # A minute past the 300 s tolerance each way: a slow run cannot bring them back in.
        (lambda b: sign(b, timestamp=int(time.time()) - 360), json.dumps(failed_event()).encode()),
        (lambda b: sign(b, timestamp=int(time.time()) + 360), json.dumps(failed_event()).encode()),
        (lambda b: sign(b), b"{not json"),
        (lambda b: sign(b), b"[1, 2, 3]"),
        (lambda b: sign(b), b'{"id": "evt_\xff"}'),
    ],
    ids=[
        "wrong-secret",
        "no-header",
        "malformed-header",
        "stale",
        "future",
        "bad-json",
        "array",
        "not-utf-8",
    ],
)
def test_a_bad_request_is_400_and_stores_nothing(client, alpha, make_signature, body):
    response = post(client, alpha.storefront, body, make_signature(body))
    assert response.status_code == 400
    assert response.json()["error"]
    assert SECRET not in response.content.decode()
    assert InboundEvent.unscoped.count() == 0


@pytest.mark.django_db
def test_a_body_over_1_mb_is_413_and_stores_nothing(client, alpha):
    event = failed_event()
    event["data"]["object"]["description"] = "x" * (2 * 1024 * 1024)
    body = json.dumps(event).encode()
    response = post(client, alpha.storefront, body, sign(body))
    assert response.status_code == 413
    assert InboundEvent.unscoped.count() == 0


@pytest.mark.django_db
def test_another_storefronts_secret_is_400(client, two_storefronts):
    alpha, bravo = two_storefronts
    body = json.dumps(failed_event()).encode()
    response = post(client, bravo.storefront, body, sign(body, SECRET))
    assert response.status_code == 400
    assert InboundEvent.unscoped.count() == 0


@pytest.mark.django_db
def test_an_unknown_storefront_is_404(client, alpha):
    body = json.dumps(failed_event()).encode()
    response = client.post(
        "/webhooks/stripe/sf_nope/",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(body),
    )
    assert response.status_code == 404


@pytest.mark.django_db
def test_get_is_not_allowed(client, alpha):
    assert client.get(f"/webhooks/stripe/{alpha.storefront.public_id}/").status_code == 405


@pytest.mark.django_db
def test_a_connect_event_goes_to_the_connected_storefront_of_this_platform(
    client, two_storefronts, make_tenant
):
    platform, shop = two_storefronts
    ConnectedAccountFactory(
        storefront=platform.storefront, account_id="acct_shop", connected_storefront=shop.storefront
    )
    outsider = make_tenant("Charlie", "whsec_charliecharliecharlie")
    # Charlie is the platform of acct_outsider: events naming it at Alpha's endpoint stay Alpha's.
    ConnectedAccountFactory(
        storefront=outsider.storefront,
        account_id="acct_outsider",
        connected_storefront=outsider.storefront,
    )
    for event_id, account in (("evt_a", "acct_shop"), ("evt_b", "acct_outsider")):
        body = json.dumps(failed_event(event_id, account=account)).encode()
        assert post(client, platform.storefront, body, sign(body, SECRET)).status_code == 200
    assert [e.event_id for e in stored(shop)] == ["evt_a"]
    # An account of a storefront that does not belong to this platform is not reached.
    assert [e.event_id for e in stored(platform)] == ["evt_b"]
    assert not stored(outsider).exists()


@pytest.mark.django_db(transaction=True)
def test_30_concurrent_deliveries_of_one_event_give_one_lost_sale_and_one_message_each(alpha):
    from django.test import Client

    body = json.dumps(failed_event()).encode()
    signature = sign(body)
    barrier = threading.Barrier(30)
    statuses = []

    def deliver():
        try:
            barrier.wait()
            response = post(Client(), alpha.storefront, body, signature)
            statuses.append(response.status_code)
            for event in InboundEvent.objects.for_storefront(alpha.storefront):
                ingest.process_inbound_event(event_id=event.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 30
    assert stored(alpha).get().status == "processed"
    assert LostSale.objects.for_storefront(alpha.storefront).count() == 1
    recovery = Message.objects.for_storefront(alpha.storefront).filter(kind="payment_recovery")
    assert recovery.count() == 3  # the sequence, once
    assert recovery.filter(idempotency_key__endswith=":recovery:1").count() == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_nothing_is_lost(client, alpha, monkeypatch, request):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    good_broker = app.conf.broker_url
    monkeypatch.setattr(app.conf, "broker_url", f"redis://127.0.0.1:{closed}/0")
    reset_broker_connections()
    for n in range(5):
        body = json.dumps(failed_event(f"evt_{n}", order=f"ML-{n}", payment=f"pi_{n}")).encode()
        assert post(client, alpha.storefront, body, sign(body)).status_code == 200
    assert set(stored(alpha).values_list("status", flat=True)) == {"received"}
    assert not stored(alpha).filter(enqueued_at__isnull=False).exists()

    assert inbound.dispatch() == 0  # the broker is still down: nothing is lost, nothing sent
    assert not stored(alpha).filter(enqueued_at__isnull=False).exists()

    # The broker is back: the next dispatch enqueues what waited, and a worker processes it.
    monkeypatch.setattr(app.conf, "broker_url", good_broker)
    reset_broker_connections()
    request.getfixturevalue("celery_worker")
    assert inbound.dispatch() == 5
    wait_for(lambda: not stored(alpha).filter(status="received").exists())
    assert set(stored(alpha).values_list("status", flat=True)) == {"processed"}
    assert LostSale.objects.for_storefront(alpha.storefront).count() == 5
