from datetime import date, timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from inbound.models import InboundEvent
from notifications.models import Message, Suppression
from payments.models import DailyStat, LostSale, Payment, PaymentAttempt
from payments.reasons import FailureReason
from storefront_settings.models import ConnectedAccount, Membership, ProviderSecret, Storefront
from tracking.models import Shipment


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"merchant{n}@example.com")
    email = factory.SelfAttribute("username")
    password = factory.django.Password("correct horse battery staple")


class StorefrontFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Storefront

    name = factory.Sequence(lambda n: f"Shop {n}")
    slug = factory.Sequence(lambda n: f"shop-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    storefront = factory.SubFactory(StorefrontFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.OWNER


# Tenant-owned rows. Every row that points at another tenant-owned row takes its storefront from
# that row (SelfAttribute), so a factory never builds a row whose two sides are in different
# storefronts: `LostSaleFactory(storefront=sf)` and `PaymentFactory(lost_sale=sale)` both stay in
# one storefront.


class ProviderSecretFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProviderSecret

    storefront = factory.SubFactory(StorefrontFactory)
    provider = "stripe"
    secret = factory.Sequence(lambda n: f"whsec_factory{n:012d}")
    hint = factory.LazyAttribute(lambda o: o.secret[-4:])


class ConnectedAccountFactory(factory.django.DjangoModelFactory):
    """A platform's routing of a connected account: the row is the platform's (`storefront`);
    `connected_storefront` is, by design, another tenant (the platform itself unless given)."""

    class Meta:
        model = ConnectedAccount

    storefront = factory.SubFactory(StorefrontFactory)
    provider = "stripe"
    account_id = factory.Sequence(lambda n: f"acct_factory{n}")
    connected_storefront = factory.SelfAttribute("storefront")


class InboundEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InboundEvent

    storefront = factory.SubFactory(StorefrontFactory)
    provider = "stripe"
    event_id = factory.Sequence(lambda n: f"evt_factory_{n}")
    event_type = "payment_intent.payment_failed"
    body = "{}"


class LostSaleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LostSale

    storefront = factory.SubFactory(StorefrontFactory)
    # Its own number, not the order reference: a test may give two sales one reference.
    key = factory.Sequence(lambda n: f"order:T-{n}")
    order_reference = factory.Sequence(lambda n: f"T-{n}")
    provider = "stripe"
    buyer_email = factory.Sequence(lambda n: f"buyer{n}@example.com")
    amount = 1000
    currency = "EUR"
    reason = FailureReason.BANK_DECLINED
    first_failed_at = factory.LazyFunction(timezone.now)
    last_failed_at = factory.SelfAttribute("first_failed_at")


class PaymentFactory(factory.django.DjangoModelFactory):
    """A payment, by default not tied to a lost sale; `PaymentFactory(lost_sale=sale)` puts it in
    the sale's storefront."""

    class Meta:
        model = Payment

    lost_sale = None
    storefront = factory.Maybe(
        "lost_sale",
        yes_declaration=factory.SelfAttribute("lost_sale.storefront"),
        no_declaration=factory.SubFactory(StorefrontFactory),
    )
    provider = "stripe"
    amount = 1000
    currency = "EUR"
    order_reference = factory.Sequence(lambda n: f"T-{n}")
    last_event_at = factory.LazyFunction(timezone.now)


class PaymentAttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PaymentAttempt

    payment = factory.SubFactory(PaymentFactory)
    storefront = factory.SelfAttribute("payment.storefront")
    attempt_key = factory.Sequence(lambda n: f"ch_factory_{n}")
    event_type = "payment_intent.payment_failed"
    occurred_at = factory.LazyFunction(timezone.now)
    reason = FailureReason.BANK_DECLINED


class DailyStatFactory(factory.django.DjangoModelFactory):
    """A row of the overview's running totals, as payments.stats keeps them (zero unless given):
    for tests of what a rebuild replaces."""

    class Meta:
        model = DailyStat

    storefront = factory.SubFactory(StorefrontFactory)
    # One day each: (storefront, day, reason, currency) is unique.
    day = factory.Sequence(lambda n: date(2026, 1, 1) + timedelta(days=n))
    reason = FailureReason.BANK_DECLINED


class MessageFactory(factory.django.DjangoModelFactory):
    """A message row as the outbox stores it. Tests of scheduling itself go through
    notifications.services.outbox (the `schedule_message` fixture), which checks its input."""

    class Meta:
        model = Message

    storefront = factory.SubFactory(StorefrontFactory)
    kind = "test"
    to = "buyer@example.com"
    template = "test_message"
    locale = factory.SelfAttribute("storefront.language")
    idempotency_key = factory.Sequence(lambda n: f"factory-{n}")
    send_at = factory.LazyFunction(timezone.now)
    next_attempt_at = factory.SelfAttribute("send_at")


class ShipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shipment

    storefront = factory.SubFactory(StorefrontFactory)
    order_reference = factory.Sequence(lambda n: f"S-{n}")
    tracking_number = factory.Sequence(lambda n: f"6A{n:011d}")
    last_news_at = factory.LazyFunction(timezone.now)


class SuppressionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Suppression

    storefront = factory.SubFactory(StorefrontFactory)
    email = factory.Sequence(lambda n: f"gone{n}@example.com")
    reason = Suppression.Reason.MANUAL
