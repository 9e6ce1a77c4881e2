"""The test factories build rows the way the application would: a row that points at another
tenant-owned row is in that row's storefront."""

import pytest

from tests.factories import (
    InboundEventFactory,
    LostSaleFactory,
    MessageFactory,
    PaymentAttemptFactory,
    PaymentFactory,
    ProviderSecretFactory,
    ShipmentFactory,
    StorefrontFactory,
    SuppressionFactory,
)


@pytest.mark.django_db
def test_a_payment_of_a_lost_sale_is_in_the_sales_storefront():
    sale = LostSaleFactory()
    payment = PaymentFactory(lost_sale=sale)
    assert payment.storefront == sale.storefront
    assert list(sale.payments.all()) == [payment]


@pytest.mark.django_db
def test_an_attempt_is_in_its_payments_storefront():
    payment = PaymentFactory(lost_sale=LostSaleFactory())
    attempt = PaymentAttemptFactory(payment=payment)
    assert attempt.storefront == payment.storefront == payment.lost_sale.storefront
    lone = PaymentAttemptFactory()
    assert lone.storefront == lone.payment.storefront != payment.storefront


@pytest.mark.django_db
@pytest.mark.parametrize(
    "factory_class",
    [
        ProviderSecretFactory,
        InboundEventFactory,
        LostSaleFactory,
        PaymentFactory,
        MessageFactory,
        ShipmentFactory,
        SuppressionFactory,
    ],
)
def test_each_factory_makes_distinct_rows_in_the_storefront_it_is_given(factory_class):
    storefront = StorefrontFactory()
    first, second = factory_class.create_batch(2, storefront=storefront)
    assert first.pk != second.pk
    assert type(first).objects.for_storefront(storefront).count() == 2
