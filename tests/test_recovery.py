"""The payments domain: failures open a lost sale and schedule the right emails; a success
recovers it; any order of the same events ends in the same state."""

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import Message
from payments.models import LostSale, Payment, PaymentAttempt
from payments.services import alerts, display, ingest, merchant, recovery
from payments.signals import SignalKind
from storefront_settings.models import Membership, RecoveryPolicy
from tests.payments_helpers import T0, signal


def apply(tenant, *signals):
    for one in signals:
        ingest.apply_signal(storefront=tenant.storefront, signal=one)


def messages(tenant, **filters):
    return Message.objects.for_storefront(tenant.storefront).filter(**filters).order_by("send_at")


@pytest.mark.django_db
def test_a_declined_payment_opens_a_lost_sale_and_schedules_the_sequence(alpha):
    apply(alpha, signal())
    sale = LostSale.objects.for_storefront(alpha.storefront).get()
    assert (sale.status, sale.reason, sale.order_reference) == (
        "open",
        "insufficient_funds",
        "ML-1",
    )
    assert (sale.amount, sale.currency, sale.buyer_email) == (8900, "EUR", "camille@example.com")
    buyer = list(messages(alpha, kind="payment_recovery"))
    assert [m.template for m in buyer] == ["payment_recovery_insufficient_funds"] * 3
    # The default sequence: a quarter of an hour, the next day, three days later.
    assert [m.send_at - T0 for m in buyer] == [timedelta(minutes=m) for m in (15, 1440, 4320)]
    assert all(m.group == sale.group and m.about == sale for m in buyer)
    assert buyer[0].context["amount_display"] == "89,00\xa0€"
    assert buyer[0].context["retry_url"].startswith("https://aftersale.test/r/")
    assert buyer[2].context["is_last"] is True
    alert = messages(alpha, kind="merchant_failed_payment_alert").get()
    assert (alert.to, alert.audience) == (alpha.owner.email, "merchant")
    assert alert.context["reason"] == "insufficient_funds"


@pytest.mark.django_db
def test_suspected_fraud_never_schedules_a_buyer_message(alpha):
    apply(alpha, signal(codes={"decline_code": "stolen_card"}))
    sale = LostSale.objects.for_storefront(alpha.storefront).get()
    assert sale.reason == "suspected_fraud"
    assert not messages(alpha, audience="buyer").exists()
    assert messages(alpha, kind="merchant_failed_payment_alert").count() == 1


@pytest.mark.django_db
def test_a_buyer_without_an_address_is_unreachable(alpha):
    apply(alpha, signal(buyer_email=""))
    sale = LostSale.objects.for_storefront(alpha.storefront).get()
    assert not sale.is_reachable
    assert not messages(alpha, audience="buyer").exists()
    assert messages(alpha, kind="merchant_failed_payment_alert").get().context["unreachable"]


@pytest.mark.django_db
def test_a_later_event_with_the_address_schedules_what_the_first_could_not(alpha):
    apply(alpha, signal(buyer_email="", payment_id="ch_1", related_ids=("pi_1",)))
    apply(alpha, signal(minutes=1, related_ids=("ch_1",)))
    assert messages(alpha, kind="payment_recovery").count() == 3
    assert LostSale.objects.for_storefront(alpha.storefront).count() == 1


@pytest.mark.django_db
def test_the_policy_decides(alpha):
    policy = RecoveryPolicy.for_storefront(alpha.storefront)
    policy.disabled_reasons = ["insufficient_funds"]
    policy.save()
    apply(alpha, signal())
    assert not messages(alpha, audience="buyer").exists()
    policy.disabled_reasons, policy.minimum_amount = [], 10000
    policy.save()
    apply(alpha, signal(order_reference="ML-2", payment_id="pi_2"))
    assert not messages(alpha, audience="buyer").exists()
    policy.minimum_amount, policy.email_delay_minutes = 0, [120]
    policy.discount_code, policy.discount_wording = "MERCI10", "un code pour nous excuser"
    policy.other_payment_methods = ["paypal", "bank_transfer"]
    policy.save()
    apply(alpha, signal(order_reference="ML-3", payment_id="pi_3"))
    only = messages(alpha, audience="buyer").get()
    assert only.send_at == T0 + timedelta(hours=2)
    assert only.context["discount_code"] == "MERCI10"
    assert only.context["other_methods"] == ["PayPal", "Bank transfer"]


@pytest.mark.django_db
def test_members_who_chose_the_digest_get_no_immediate_alert(alpha):
    alpha.membership.alert_frequency = Membership.AlertFrequency.DAILY
    alpha.membership.save()
    apply(alpha, signal())
    assert not messages(alpha, audience="merchant").exists()


@pytest.mark.django_db
def test_a_success_recovers_the_sale_and_cancels_what_is_scheduled(alpha):
    apply(alpha, signal())
    apply(alpha, signal(SignalKind.SUCCEEDED, minutes=90, codes={}, amount=8500))
    sale = LostSale.objects.for_storefront(alpha.storefront).get()
    assert (sale.status, sale.recovered_amount) == ("recovered", 8500)
    assert sale.recovered_at == T0 + timedelta(minutes=90)
    assert sale.recovered_after_click is False
    statuses = set(messages(alpha, kind="payment_recovery").values_list("status", flat=True))
    assert statuses == {"cancelled"}


@pytest.mark.django_db
def test_a_success_for_another_payment_of_the_same_order_recovers_it(alpha):
    apply(alpha, signal())
    apply(alpha, signal(SignalKind.SUCCEEDED, minutes=5, payment_id="cs_9", codes={}))
    assert LostSale.objects.for_storefront(alpha.storefront).get().status == "recovered"


@pytest.mark.django_db
def test_a_click_before_the_success_is_attributed(alpha, client):
    apply(alpha, signal())
    retry_url = messages(alpha, kind="payment_recovery").first().context["retry_url"]
    client.get(retry_url.removeprefix("https://aftersale.test"))
    paid_at = timezone.now() + timedelta(minutes=1)
    apply(alpha, signal(SignalKind.SUCCEEDED, codes={}, occurred_at=paid_at))
    sale = LostSale.objects.for_storefront(alpha.storefront).get()
    assert sale.recovery_clicked_at is not None
    assert sale.recovered_after_click is True


@pytest.mark.django_db
def test_a_failure_after_the_success_does_not_reopen(alpha):
    apply(alpha, signal(SignalKind.SUCCEEDED, minutes=10, codes={}))
    apply(alpha, signal())
    payment = Payment.objects.for_storefront(alpha.storefront).get()
    assert payment.status == "succeeded"
    sale = LostSale.objects.for_storefront(alpha.storefront).get()
    assert sale.status == "recovered"
    assert not messages(alpha, status="scheduled").exists()


def state(tenant):
    """Everything a merchant could see of the outcome, independent of arrival order."""
    storefront = tenant.storefront
    sales = list(
        LostSale.objects.for_storefront(storefront)
        .order_by("key")
        .values(
            "key",
            "status",
            "reason",
            "amount",
            "currency",
            "buyer_email",
            "attempts",
            "first_failed_at",
            "last_failed_at",
            "recovered_at",
            "recovered_amount",
            "recovered_by",
            "recovered_by_payment__order_reference",
        )
    )
    payments = list(
        Payment.objects.for_storefront(storefront)
        .order_by("order_reference", "status")
        .values("status", "amount", "order_reference", "buyer_email", "succeeded_at")
    )
    pending = messages(tenant, status="scheduled").count()
    return sales, payments, pending


EVENTS = [
    signal(minutes=0, codes={"code": "authentication_required"}),
    signal(
        minutes=1,
        payment_id="ch_2",
        related_ids=("pi_1",),
        attempt_id="ch_2",
        codes={"failure_code": "card_declined", "decline_code": "insufficient_funds"},
    ),
    signal(minutes=1, related_ids=("ch_2",), attempt_id="ch_2"),
    signal(minutes=3, codes={"decline_code": "expired_card"}, amount=9900),
    signal(SignalKind.SUCCEEDED, minutes=30, codes={}, amount=9900),
    signal(minutes=2, order_reference="ML-7", payment_id="pi_7", buyer_email="zoe@example.com"),
    signal(
        SignalKind.ABANDONED,
        minutes=5,
        order_reference="ML-8",
        payment_id="cs_8",
        codes={},
        recovery_url="https://checkout.stripe.com/c/pay/cs_8#recover",
    ),
]


@pytest.mark.django_db
def test_shuffled_event_orders_end_in_the_same_state(alpha):
    orders = [EVENTS, list(reversed(EVENTS))]
    orders += [list(p) for p in itertools.islice(itertools.permutations(EVENTS), 50, 5000, 997)]
    outcomes = []
    for order in orders:
        for model in (Message, PaymentAttempt, Payment, LostSale):
            model.unscoped.all().delete()
        apply(alpha, *order)
        outcomes.append(state(alpha))
    assert all(outcome == outcomes[0] for outcome in outcomes), "arrival order changed the state"
    sales, payments, pending = outcomes[0]
    assert [(s["key"], s["status"], s["recovered_by"]) for s in sales] == [
        ("order:ML-1", "recovered", "same_order"),
        ("order:ML-7", "open", ""),
        # Camille abandoned ML-8 at 10:05 and paid ML-1 (99 €, more than ML-8's 89 €) at 10:30.
        ("order:ML-8", "recovered", "another_order"),
    ]
    assert sales[2]["recovered_by_payment__order_reference"] == "ML-1"
    # ML-1's payment counts as ML-1's recovered revenue, not ML-8's as well.
    assert (sales[0]["recovered_amount"], sales[2]["recovered_amount"]) == (9900, 0)
    assert sales[0]["attempts"] == 3  # ch_2 reported twice counts once
    # Three recovery emails and one alert for ML-7; ML-1's and ML-8's were cancelled or never
    # made, whichever came first.
    assert pending == 4


@pytest.mark.django_db
def test_replaying_every_event_changes_nothing(alpha):
    apply(alpha, *EVENTS)
    before = state(alpha)
    apply(alpha, *EVENTS)
    assert state(alpha) == before


@pytest.mark.django_db
def test_mark_lost_and_the_recovery_window(alpha):
    apply(alpha, signal())
    sale = LostSale.objects.for_storefront(alpha.storefront).get()
    assert merchant.mark_lost(lost_sale=sale) is True
    assert sale.status == "lost"
    assert set(messages(alpha, kind="payment_recovery").values_list("status", flat=True)) == {
        "cancelled"
    }
    assert merchant.mark_lost(lost_sale=sale) is False
    apply(alpha, signal(order_reference="ML-2", payment_id="pi_2"))
    assert recovery.expire_lost_sales(now=T0 + timedelta(days=6)) == 0
    assert recovery.expire_lost_sales(now=T0 + timedelta(days=7, minutes=1)) == 1
    assert LostSale.objects.for_storefront(alpha.storefront).filter(status="lost").count() == 2


@pytest.mark.django_db
def test_expire_uses_each_storefronts_window(alpha):
    policy = RecoveryPolicy.for_storefront(alpha.storefront)
    policy.recovery_window_days = 2
    policy.save()
    apply(alpha, signal())
    assert recovery.expire_lost_sales(now=T0 + timedelta(days=2, minutes=1)) == 1


@pytest.mark.django_db
def test_the_retry_link_records_the_click_and_redirects(alpha, client):
    apply(
        alpha,
        signal(
            SignalKind.ABANDONED,
            codes={},
            recovery_url="https://checkout.stripe.com/c/pay/cs_1#recover",
        ),
    )
    url = messages(alpha, kind="payment_recovery").first().context["retry_url"]
    response = client.get(url.removeprefix("https://aftersale.test"))
    assert response.status_code == 302
    assert response.url == "https://checkout.stripe.com/c/pay/cs_1#recover"
    first_click = LostSale.objects.for_storefront(alpha.storefront).get().recovery_clicked_at
    assert first_click is not None
    client.get(url.removeprefix("https://aftersale.test"))
    assert (
        LostSale.objects.for_storefront(alpha.storefront).get().recovery_clicked_at == first_click
    )


@pytest.mark.django_db
def test_without_a_recovery_url_the_link_uses_the_checkout_template_then_the_shop(alpha, client):
    apply(alpha, signal())
    url = messages(alpha, kind="payment_recovery").first().context["retry_url"]
    path = url.removeprefix("https://aftersale.test")
    assert client.get(path).status_code == 200  # no URL at all: a page with the shop's contact
    alpha.storefront.shop_url = "https://alpha.example"
    alpha.storefront.save()
    assert client.get(path).url == "https://alpha.example"
    policy = RecoveryPolicy.for_storefront(alpha.storefront)
    policy.checkout_url_template = "https://alpha.example/checkout/{order_reference}"
    policy.save()
    assert client.get(path).url == "https://alpha.example/checkout/ML-1"


@pytest.mark.django_db
def test_a_tampered_retry_link_is_400(client, alpha):
    assert client.get("/r/not-a-token/").status_code == 400


@pytest.mark.django_db
def test_the_alert_and_the_sale_stay_in_their_storefront(two_storefronts):
    alpha, bravo = two_storefronts
    apply(alpha, signal())
    apply(bravo, signal())
    assert LostSale.objects.for_storefront(alpha.storefront).count() == 1
    assert LostSale.objects.for_storefront(bravo.storefront).count() == 1
    assert messages(bravo, kind="merchant_failed_payment_alert").get().to == bravo.owner.email


@pytest.mark.django_db
def test_the_daily_digest_goes_at_eight_local_time_once(alpha):
    from datetime import UTC, datetime

    alpha.membership.alert_frequency = Membership.AlertFrequency.DAILY
    alpha.membership.save()
    apply(alpha, signal())
    seven_utc = datetime(2026, 11, 21, 7, 5, tzinfo=UTC)  # 08:05 in Paris
    assert alerts.send_daily_digests(now=seven_utc.replace(hour=6)) == 0
    assert alerts.send_daily_digests(now=seven_utc) == 1
    alerts.send_daily_digests(now=seven_utc)
    digest = messages(alpha, kind="merchant_daily_digest").get()
    assert digest.context["count"] == 1
    assert digest.context["failures"][0]["reason"] == "insufficient_funds"


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "shown"),
    [
        (8900, "EUR", "fr", "89,00\xa0€"),
        (8900, "USD", "en", "$89.00"),
        (8900, "JPY", "en", "¥8,900"),  # the yen has no minor unit
        (8900, "KWD", "en", "KWD8.900"),  # three decimals
        (None, "EUR", "fr", ""),
    ],
)
def test_amounts_are_shown_in_the_currencys_own_minor_unit(amount, currency, locale, shown):
    assert display.amount_display(amount, currency, locale) == shown
