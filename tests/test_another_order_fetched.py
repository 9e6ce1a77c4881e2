"""The "another order" rule across two fetch-on-notify providers, end to end: a buyer's Mollie
payment fails (order A), then the same buyer, typing their address differently, pays order B
through PayPlug. Both are notified unsigned, fetched from stand-ins of the two APIs (mocked at
their HTTP boundary) and processed by the worker's task; the Mollie sale is then recovered by
another order and its emails are cancelled, in either processing order."""

from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from inbound.models import InboundEvent
from inbound.notified import NOTIFICATION
from inbound.tasks import process_inbound_event
from notifications.models import Message
from payments.models import LostSale
from payments.providers.mollie import samples as mollie
from payments.providers.payplug import samples as payplug
from storefront_settings.services.credentials import add_provider_secret

MOLLIE_API = "https://api.mollie.stand-in.test"
PAYPLUG_API = "https://api.payplug.stand-in.test"
MOLLIE_KEY = "test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM"
PAYPLUG_KEY = "sk_test_7c5cb3b54abcf5062f056639e809368c"
FAILED, PAID = "tr_5B8cwPMGnU6qLbRvo7qEZo", "pay_5iHMDxy4ABR4YBVW4UscIn"


@pytest.fixture
def shop(alpha, settings):
    settings.MOLLIE_API_BASE = MOLLIE_API
    settings.PAYPLUG_API_BASE = PAYPLUG_API
    add_provider_secret(storefront=alpha.storefront, provider="mollie", secret=MOLLIE_KEY)
    add_provider_secret(storefront=alpha.storefront, provider="payplug", secret=PAYPLUG_KEY)
    return alpha.storefront


@pytest.fixture
def apis():
    failed_at = timezone.now().replace(microsecond=0) - timedelta(hours=2)
    with responses.RequestsMock() as mock:
        mock.get(
            f"{MOLLIE_API}/v2/payments/{FAILED}",
            json=mollie.failed(
                FAILED,
                "insufficient_funds",
                at=failed_at,
                amount="89.00",
                order_id="ML-A",
                email="camille@example.com",
            ),
        )
        mock.get(
            f"{PAYPLUG_API}/v1/payments/{PAID}",
            json=payplug.paid_payment(
                PAID,
                paid_at=int((failed_at + timedelta(hours=1)).timestamp()),
                amount=7900,  # 89 % of the failed basket
                order="ML-B",
                email="  Camille@Example.COM ",
            ),
        )
        yield mock


def notify(client, storefront, provider, request):
    answer = client.post(
        f"/webhooks/{provider}/{storefront.public_id}/",
        data=request.body,
        content_type=request.headers["Content-Type"],
    )
    assert answer.status_code == 200, answer.content
    pending = InboundEvent.objects.for_storefront(storefront).filter(
        provider=provider, event_type=NOTIFICATION, status=InboundEvent.Status.RECEIVED
    )
    for pk in pending.values_list("pk", flat=True):
        process_inbound_event.run(pk, provider)


@pytest.mark.parametrize("failure_first", [True, False])
def test_a_payplug_success_recovers_the_buyers_mollie_sale_as_another_order(
    client, shop, apis, failure_first
):
    steps = [
        ("mollie", mollie.notification(FAILED)),
        ("payplug", payplug.payment_notification(PAID)),
    ]
    for provider, request in steps if failure_first else reversed(steps):
        notify(client, shop, provider, request)

    sale = LostSale.objects.for_storefront(shop).get(order_reference="ML-A")
    assert sale.provider == "mollie" and sale.reason == "insufficient_funds"
    assert sale.status == LostSale.Status.RECOVERED
    assert sale.recovered_by == LostSale.RecoveredBy.ANOTHER_ORDER
    assert sale.recovered_by_payment.provider == "payplug"
    assert sale.recovered_by_payment.order_reference == "ML-B"
    # Nothing is left to go to the buyer about order A.
    buyer_mail = Message.objects.for_storefront(shop).filter(
        group=sale.group, audience="buyer", status=Message.Status.SCHEDULED
    )
    assert not buyer_mail.exists()
    if failure_first:
        # The emails were scheduled by the failure, then cancelled by the success.
        assert Message.objects.for_storefront(shop).filter(group=sale.group).exists()


def test_a_smaller_payment_from_the_same_buyer_leaves_the_sale_open(client, shop, apis, settings):
    settings.RECOVERY_OTHER_ORDER_MIN_SHARE = 0.9  # 79 € is 89 % of 89 €: not enough now

    notify(client, shop, "mollie", mollie.notification(FAILED))
    notify(client, shop, "payplug", payplug.payment_notification(PAID))

    sale = LostSale.objects.for_storefront(shop).get(order_reference="ML-A")
    assert sale.status == LostSale.Status.OPEN
    assert (
        Message.objects.for_storefront(shop)
        .filter(group=sale.group, audience="buyer", status=Message.Status.SCHEDULED)
        .exists()
    )
