"""A buyer's address no email can go to (a quoted local part with spaces, one too long to
store) is bad data no retry fixes: the payment failure is recorded all the same, its lost sale
unreachable with the address kept as given for the merchant, and its merchant alert sent;
a shipment is recorded without its email; the API refuses such an address with a 400."""

import pytest

from inbound import services as inbound
from notifications.models import Message
from notifications.services import outbox
from payments.models import LostSale
from payments.services import ingest
from tests.conftest import wait_for
from tests.payments_helpers import signal
from tests.test_inbound_failures import deliver
from tests.test_stripe_webhook import failed_event, stored
from tests.tracking_helpers import point, update
from tracking.imports import import_rows
from tracking.services import ingest as tracking_ingest
from tracking.services import shipments

MALFORMED = '"camille martin"@example.com'  # a quoted local part with a space
# 260 characters: Django's validator takes up to 320, RFC 5321 and Message.to 254.
TOO_LONG = f"{'c' * 64}@{'e' * 63}.{'x' * 63}.{'y' * 63}.com"


def sales(tenant):
    return LostSale.objects.for_storefront(tenant.storefront)


def messages(tenant, **filters):
    return Message.objects.for_storefront(tenant.storefront).filter(**filters)


@pytest.mark.django_db(transaction=True)
def test_a_malformed_buyer_address_gives_an_unreachable_sale_and_the_merchant_alert(
    client, alpha, celery_worker
):
    event = failed_event()
    event["data"]["object"]["receipt_email"] = MALFORMED
    stored_event = deliver(client, alpha, event)
    assert inbound.dispatch() == 1
    wait_for(lambda: stored(alpha).get().status != "received")

    stored_event.refresh_from_db()
    assert (stored_event.status, stored_event.attempts) == ("processed", 0)
    sale = sales(alpha).get()
    assert (sale.buyer_email, sale.invalid_buyer_email) == ("", MALFORMED)
    assert not sale.is_reachable
    assert not messages(alpha, audience="buyer").exists()
    alert = messages(alpha, kind="merchant_failed_payment_alert").get()
    assert alert.to == alpha.owner.email
    assert alert.context["unreachable"] is True
    # Due at once, it is sent on commit by the worker, without waiting for the beat tick.
    wait_for(lambda: messages(alpha, pk=alert.pk, status="sent").exists())


@pytest.mark.django_db
def test_the_merchant_sees_the_address_as_given_on_the_sales_page_and_in_the_api(client, alpha):
    ingest.apply_signal(storefront=alpha.storefront, signal=signal(buyer_email=MALFORMED))
    sale = sales(alpha).get()
    api = client.get(
        f"/api/v1/lost-sales/{sale.pk}/", HTTP_AUTHORIZATION=f"Bearer {alpha.raw_api_key}"
    ).json()
    assert (api["buyer_email"], api["invalid_buyer_email"]) == ("", MALFORMED)
    client.force_login(alpha.owner)
    page = client.get(f"/app/alpha/lost-sales/{sale.pk}/").content.decode()
    assert "&quot;camille martin&quot;@example.com" in page
    assert "Not a valid email address" in page


@pytest.mark.django_db
def test_a_later_valid_address_replaces_the_invalid_one_and_an_older_invalid_one_is_ignored(
    alpha,
):
    ingest.apply_signal(storefront=alpha.storefront, signal=signal(buyer_email=MALFORMED))
    ingest.apply_signal(storefront=alpha.storefront, signal=signal(minutes=5))
    sale = sales(alpha).get()
    assert (sale.buyer_email, sale.invalid_buyer_email) == ("camille@example.com", "")
    assert messages(alpha, kind="payment_recovery").count() == 3
    ingest.apply_signal(
        storefront=alpha.storefront, signal=signal(minutes=1, buyer_email="x y@example.com")
    )
    sale.refresh_from_db()
    assert (sale.buyer_email, sale.invalid_buyer_email) == ("camille@example.com", "")


@pytest.mark.parametrize(
    ("address", "valid"),
    [
        ("camille@example.com", True),
        (" Camille@Example.com ", True),
        ('"camille"@example.com', True),
        (MALFORMED, False),
        ("camille@@example.com", False),
        ("camille@example", False),
        (TOO_LONG, False),
    ],
)
def test_which_addresses_the_outbox_takes(address, valid):
    assert outbox.is_valid_address(address) is valid


@pytest.mark.django_db
def test_a_shipment_with_an_address_no_email_can_go_to_is_followed_without_emails(alpha):
    shipment = shipments.create_shipment(
        alpha.storefront,
        shipments.NewShipment(
            order_reference="ML-1", buyer_email=MALFORMED, tracking_number="6A12345678901"
        ),
    )
    assert shipment.buyer_email == MALFORMED  # kept as given, on the shipment's page
    # The carrier's news is applied; the milestone email is not scheduled, nor does it fail.
    news = update(point("in_transit"), point("out_for_delivery", hours=5))
    assert tracking_ingest.apply_signal(storefront=alpha.storefront, signal=news) is not None
    shipment.refresh_from_db()
    assert shipment.status == "out_for_delivery"
    assert not messages(alpha).exists()


@pytest.mark.django_db
def test_an_import_refuses_an_address_too_long_to_store_and_imports_the_rest(alpha):
    good = {"order_reference": "ML-1", "buyer_email": "a@example.com", "tracking_number": "AB1234"}
    long = {**good, "order_reference": "ML-2", "buyer_email": TOO_LONG, "tracking_number": "CD5678"}
    report = import_rows(alpha.storefront, [good, long])
    assert report.created == 1
    assert [line for line, _ in report.errors] == [3]
    assert "buyer_email" in report.errors[0][1]


@pytest.mark.django_db
def test_the_api_refuses_an_address_too_long_to_store(client, alpha):
    response = client.post(
        "/api/v1/shipments/",
        {
            "order_reference": "ML-1",
            "buyer_email": TOO_LONG,
            "tracking_number": "6A12345678901",
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {alpha.raw_api_key}",
    )
    assert response.status_code == 400
    assert "buyer_email" in response.json()
