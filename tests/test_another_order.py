"""A sale that comes back under another order: a buyer who failed order A and then paid order B
at the same shop has come back. A's sale is recovered "with another order" and its emails stop,
whatever order the events arrive in, within the recovery window and for most of A's amount.

The rule is in payments.services.ingest's docstring; these tests take it clause by clause, then
across two providers (Stripe and Adyen, through their signed webhooks), then with two workers
racing."""

import itertools
import random
import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from inbound.models import InboundEvent
from notifications.models import Message
from notifications.services import sending
from payments import stats
from payments.checks import check_other_order_share
from payments.models import DailyStat, LostSale, Payment, PaymentAttempt, PaymentReference
from payments.providers.adyen import samples as adyen
from payments.providers.stripe import samples as stripe
from payments.reasons import FailureReason
from payments.services import ingest, merchant
from payments.signals import SignalKind
from storefront_settings.models import RecoveryPolicy
from storefront_settings.services.credentials import add_provider_secret
from tests.conftest import ALPHA_SECRET, wait_for
from tests.payments_helpers import T0, signal
from tests.test_provider_adyen import KEY, load

CAMILLE = "camille@example.com"


def fail(order="ML-1", minutes=0, **fields):
    """A failed payment for `order`, `minutes` after T0 (10:00 UTC), by Camille, 89 €."""
    fields.setdefault("payment_id", f"pi_{order}")
    return signal(minutes=minutes, order_reference=order, **fields)


def pay(order="ML-2", minutes=5, **fields):
    """A successful payment for `order`, `minutes` after T0, by Camille, 89 €."""
    fields.setdefault("payment_id", f"pi_{order}")
    return signal(SignalKind.SUCCEEDED, minutes=minutes, order_reference=order, codes={}, **fields)


def apply(tenant, *signals):
    for one in signals:
        ingest.apply_signal(storefront=tenant.storefront, signal=one)


def sale(tenant, order="ML-1") -> LostSale:
    return (
        LostSale.objects.for_storefront(tenant.storefront)
        .select_related("recovered_by_payment")
        .get(order_reference=order)
    )


def scheduled(tenant):
    return Message.objects.for_storefront(tenant.storefront).filter(status="scheduled")


def outcome(tenant) -> list[tuple]:
    """What a merchant sees of the buyer's sales, to compare arrival orders."""
    return list(
        LostSale.objects.for_storefront(tenant.storefront)
        .order_by("order_reference")
        .values_list(
            "order_reference",
            "status",
            "recovered_by",
            "recovered_by_payment__order_reference",
            "recovered_at",
            "recovered_amount",
        )
    )


def in_every_order(tenant, events) -> list[tuple]:
    """Apply the events in every order (one in twelve, and the reverse, past four events), from
    scratch each time; the outcome, the same in all."""
    orders = list(itertools.permutations(events))
    if len(events) > 4:
        orders = [*orders[::12], orders[-1]]
    outcomes = []
    for order in orders:
        for model in (Message, DailyStat, PaymentAttempt, PaymentReference, Payment, LostSale):
            model.objects.for_storefront(tenant.storefront).delete()
        apply(tenant, *order)
        outcomes.append(outcome(tenant))
        settled = LostSale.objects.for_storefront(tenant.storefront).exclude(status="open")
        assert not scheduled(tenant).filter(about_id__in=[str(s.pk) for s in settled]).exists()
    assert all(found == outcomes[0] for found in outcomes), "arrival order changed the outcome"
    return outcomes[0]


def nonzero_stats(storefront) -> set[tuple]:
    rows = DailyStat.objects.for_storefront(storefront).values_list(
        "day", "reason", "currency", *stats.FIELDS
    )
    return {row for row in rows if any(row[3:])}


def totals(storefront) -> dict[str, int]:
    found = dict.fromkeys(stats.FIELDS, 0)
    for row in DailyStat.objects.for_storefront(storefront).values(*stats.FIELDS):
        for name in stats.FIELDS:
            found[name] += row[name]
    return found


# --- The rule, clause by clause -----------------------------------------------------------------


@pytest.mark.django_db
def test_paying_another_order_recovers_the_sale_and_no_recovery_email_goes_out(alpha):
    apply(alpha, fail(), pay())
    found = sale(alpha)
    assert (found.status, found.recovered_by) == ("recovered", "another_order")
    assert found.recovered_by_payment.order_reference == "ML-2"
    assert found.recovered_at == T0 + timedelta(minutes=5)
    assert found.recovered_amount == 8900  # the new order's own failure is not a lost sale
    assert found.recovered_after_click is False
    # The order paid at once never failed: it is no lost sale.
    assert LostSale.objects.for_storefront(alpha.storefront).count() == 1
    messages = Message.objects.for_storefront(alpha.storefront).filter(group=found.group)
    assert messages.filter(kind="payment_recovery").count() == 3
    assert set(messages.values_list("status", flat=True)) == {"cancelled"}
    # Days later, nothing goes to the buyer (nor the alert the recovery cancelled).
    report = sending.send_due(now=T0 + timedelta(days=5))
    assert report.sent == 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_success_processed_before_the_failure_recovers_it_at_once(alpha):
    # Order B paid at 10:05, processed first; order A's failure at 10:00 comes in after it.
    apply(alpha, pay(minutes=5), fail(minutes=0))
    found = sale(alpha)
    assert (found.status, found.recovered_by) == ("recovered", "another_order")
    assert found.recovered_at == T0 + timedelta(minutes=5)
    # Settled before anything was written: no recovery email, no alert.
    assert not Message.objects.for_storefront(alpha.storefront).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("success_first", [False, True])
@pytest.mark.parametrize(
    ("paid_minutes", "recovered"),
    [
        (-60, False),  # paid order B at 09:00, failed A at 10:00: not a buyer coming back
        (-1, False),
        (0, True),  # the same instant as the failure: not before it
        (1, True),
    ],
)
def test_only_a_success_not_before_the_failure_counts(
    alpha, success_first, paid_minutes, recovered
):
    events = [fail(minutes=0), pay(minutes=paid_minutes)]
    apply(alpha, *(reversed(events) if success_first else events))
    found = sale(alpha)
    assert found.status == ("recovered" if recovered else "open")
    assert scheduled(alpha).filter(kind="payment_recovery").count() == (0 if recovered else 3)


DAY = 24 * 60


@pytest.mark.django_db
@pytest.mark.parametrize("success_first", [False, True])
@pytest.mark.parametrize(
    ("paid_minutes", "recovered"),
    [
        (3 * DAY - 1, True),
        (3 * DAY, True),  # the window's last minute: two days after the latest failure
        (3 * DAY + 1, False),
    ],
)
def test_the_window_is_the_storefronts_recovery_window_after_the_latest_failure(
    alpha, success_first, paid_minutes, recovered
):
    policy = RecoveryPolicy.for_storefront(alpha.storefront)
    policy.recovery_window_days = 2
    policy.email_delay_minutes = [15]
    policy.save()
    # Tried again a day later: the window runs from that latest try.
    events = [fail(minutes=0), fail(minutes=DAY, attempt_id="ch_2"), pay(minutes=paid_minutes)]
    apply(alpha, *(reversed(events) if success_first else events))
    assert sale(alpha).status == ("recovered" if recovered else "open")


@pytest.mark.django_db
@pytest.mark.parametrize("success_first", [False, True])
@pytest.mark.parametrize(
    ("sale_fields", "paid_fields", "recovered"),
    [
        ({}, {"amount": 7120}, True),  # exactly 80 % of 89 €
        ({}, {"amount": 7119}, False),
        ({}, {"amount": 25000}, True),  # a bigger basket
        ({}, {"currency": "eur"}, True),  # a currency is a currency, in any case
        ({}, {"currency": "USD"}, False),  # no rate of the day to compare 89 € and $89
        ({}, {"amount": None}, False),  # an unknown amount could be a 5 € add-on
        ({"amount": None}, {}, False),
        ({"currency": ""}, {}, False),
    ],
)
def test_the_amount_rule(alpha, success_first, sale_fields, paid_fields, recovered):
    events = [fail(**sale_fields), pay(**paid_fields)]
    apply(alpha, *(reversed(events) if success_first else events))
    assert sale(alpha).status == ("recovered" if recovered else "open")


@pytest.mark.django_db
@pytest.mark.parametrize(("paid", "recovered"), [(4450, True), (4449, False)])
def test_the_share_is_a_setting(alpha, settings, paid, recovered):
    settings.RECOVERY_OTHER_ORDER_MIN_SHARE = 0.5
    apply(alpha, fail(), pay(amount=paid))
    assert sale(alpha).status == ("recovered" if recovered else "open")


@pytest.mark.parametrize("share", [0, -0.2, 1.01, "most"])
def test_a_share_out_of_bounds_stops_the_start(settings, share):
    settings.RECOVERY_OTHER_ORDER_MIN_SHARE = share
    [error] = check_other_order_share()
    assert error.id == "payments.E001"
    settings.RECOVERY_OTHER_ORDER_MIN_SHARE = 1
    assert check_other_order_share() == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("address", "recovered"),
    [
        ("  Camille@EXAMPLE.com ", True),
        ("CAMILLE@example.com", True),
        ("camille@example.org", False),
        ("camille.martin@example.com", False),
        ("", False),
    ],
)
def test_addresses_compare_without_case_or_surrounding_spaces(alpha, address, recovered):
    apply(alpha, fail(), pay(buyer_email=address))
    assert sale(alpha).status == ("recovered" if recovered else "open")
    apply(alpha, fail("ML-3", 10, buyer_email=address.upper()), pay("ML-4", 20))
    assert sale(alpha, "ML-3").status == ("recovered" if recovered else "open")


@pytest.mark.django_db
@pytest.mark.parametrize("success_first", [False, True])
def test_a_success_at_another_storefront_never_recovers_this_ones_sale(
    two_storefronts, success_first
):
    alpha, bravo = two_storefronts
    steps = [(alpha, fail()), (bravo, pay())]
    for tenant, event in reversed(steps) if success_first else steps:
        apply(tenant, event)
    assert sale(alpha).status == "open"
    assert scheduled(alpha).filter(kind="payment_recovery").count() == 3
    # Bravo's own buyer with the same address is recovered there, and only there.
    apply(bravo, fail("B-1", minutes=6))
    assert sale(bravo, "B-1").status == "open"
    apply(bravo, pay("B-2", minutes=7))
    assert sale(bravo, "B-1").status == "recovered"
    assert sale(alpha).status == "open"


@pytest.mark.django_db
def test_a_sale_given_up_is_still_recovered_when_the_buyer_pays_within_the_window(alpha):
    apply(alpha, fail())
    merchant.mark_lost(lost_sale=sale(alpha))
    apply(alpha, pay(minutes=60))
    found = sale(alpha)
    assert (found.status, found.recovered_by) == ("recovered", "another_order")
    assert found.lost_at is not None  # the merchant's decision stays on record


@pytest.mark.django_db
def test_a_click_on_a_recovery_email_before_paying_the_new_order_is_attributed(alpha, client):
    now = timezone.now()
    apply(alpha, fail(occurred_at=now - timedelta(minutes=10)))
    link = scheduled(alpha).filter(kind="payment_recovery").first().context["retry_url"]
    client.get(link.removeprefix("https://aftersale.test"))
    apply(alpha, pay(occurred_at=now + timedelta(minutes=1)))
    found = sale(alpha)
    assert found.recovered_by == "another_order"
    assert found.recovered_after_click is True


# --- Several sales, several successes: who pays what, and the revenue counted once --------------


@pytest.mark.django_db
def test_one_success_recovers_each_sale_it_pays_for_and_counts_its_revenue_once(alpha):
    # Two baskets failed (ML-1 at 10:00, ML-3 at 10:10), a third paid at 10:20.
    found = in_every_order(alpha, [fail("ML-1", 0), fail("ML-3", 10), pay("ML-4", 20)])
    assert found == [
        ("ML-1", "recovered", "another_order", "ML-4", T0 + timedelta(minutes=20), 0),
        ("ML-3", "recovered", "another_order", "ML-4", T0 + timedelta(minutes=20), 8900),
    ]
    # Two sales recovered, 89 € of revenue: the one payment.
    counted = totals(alpha.storefront)
    assert (counted["recovered_count"], counted["recoveries"]) == (2, 2)
    assert counted["recovered_revenue"] == 8900
    kept = nonzero_stats(alpha.storefront)
    stats.rebuild(storefront=alpha.storefront)
    assert nonzero_stats(alpha.storefront) == kept


@pytest.mark.django_db
def test_the_revenue_goes_to_the_sale_whose_recovery_email_was_clicked(alpha):
    apply(alpha, fail("ML-1", 0), fail("ML-3", 10))
    LostSale.objects.for_storefront(alpha.storefront).filter(order_reference="ML-1").update(
        recovery_clicked_at=T0 + timedelta(minutes=15)
    )
    apply(alpha, pay("ML-4", 20))
    assert (sale(alpha, "ML-1").recovered_amount, sale(alpha, "ML-3").recovered_amount) == (
        8900,
        0,
    )
    assert sale(alpha, "ML-1").recovered_after_click is True
    assert totals(alpha.storefront)["recovered_after_click_revenue"] == 8900


@pytest.mark.django_db
def test_each_sale_is_judged_on_its_own_amount(alpha):
    apply(alpha, fail("ML-1", 0), fail("ML-3", 10, amount=25000), pay("ML-4", 20))
    assert sale(alpha, "ML-1").status == "recovered"
    assert sale(alpha, "ML-3").status == "open"  # 89 € is not most of 250 €


@pytest.mark.django_db
def test_when_the_paying_order_failed_too_its_own_sale_counts_the_revenue(alpha):
    # The buyer failed ML-1, started over as ML-2, failed, then paid ML-2.
    found = in_every_order(alpha, [fail("ML-1", 0), fail("ML-2", 3), pay("ML-2", 5)])
    assert found == [
        ("ML-1", "recovered", "another_order", "ML-2", T0 + timedelta(minutes=5), 0),
        ("ML-2", "recovered", "same_order", "ML-2", T0 + timedelta(minutes=5), 8900),
    ]
    assert totals(alpha.storefront)["recovered_revenue"] == 8900


@pytest.mark.django_db
def test_the_orders_own_payment_outranks_another_orders(alpha):
    # Paid another order at 10:05, then (twice the spend) the failed order itself at 10:20.
    retry = pay("ML-1", 20, payment_id="pi_ML-1-retry", amount=9900)
    found = in_every_order(alpha, [fail("ML-1", 0), pay("ML-2", 5), retry])
    assert found == [
        ("ML-1", "recovered", "same_order", "ML-1", T0 + timedelta(minutes=20), 9900),
    ]


@pytest.mark.django_db
def test_the_earliest_success_of_another_order_settles_the_sale(alpha):
    found = in_every_order(alpha, [fail("ML-1", 0), pay("ML-3", 30), pay("ML-2", 10)])
    assert found == [
        ("ML-1", "recovered", "another_order", "ML-2", T0 + timedelta(minutes=10), 8900),
    ]


@pytest.mark.django_db
def test_a_mix_of_buyers_and_orders_ends_the_same_in_any_order(alpha):
    events = [
        fail("ML-1", 0),
        fail("ML-1", 2, payment_id="pi_ML-1b", amount=9500),  # retried, a bit more
        fail("ML-5", 1, buyer_email="zoe@example.com"),
        pay("ML-6", 9, buyer_email="Zoe@Example.com", amount=3000),  # too little for ML-5
        pay("ML-2", 6, buyer_email=" CAMILLE@example.com"),
    ]
    found = in_every_order(alpha, events)
    assert [row[:4] for row in found] == [
        ("ML-1", "recovered", "another_order", "ML-2"),
        ("ML-5", "open", "", None),
    ]


# --- Across two providers, through their signed webhooks ---------------------------------------


@pytest.fixture
def shop(alpha):
    add_provider_secret(storefront=alpha.storefront, provider="adyen", secret=KEY)
    return alpha


def deliver(client, tenant, provider: str, request) -> None:
    """Post a provider's signed request to the storefront's endpoint, then process what it
    stored, as the worker would."""
    events = InboundEvent.objects.for_storefront(tenant.storefront)
    before = set(events.values_list("pk", flat=True))
    response = client.generic(
        "POST",
        f"/webhooks/{provider}/{tenant.storefront.public_id}/",
        request.body,
        content_type=request.headers["Content-Type"],
        headers={k: v for k, v in request.headers.items() if k != "Content-Type"},
    )
    assert response.status_code == 200, response.content
    stored = events.exclude(pk__in=before)
    for event in stored:
        assert ingest.process_inbound_event(event_id=event.pk) == "processed"


def stripe_request(kind: str, order: str, when, *, email=CAMILLE, amount=8900):
    rng = random.Random(order)  # noqa: S311 - made-up ids
    buyer = stripe.Buyer(email=email, name="Camille Martin")
    stripe_order = stripe.Order(order, amount, buyer)
    payment = stripe.new_payment(rng)
    at = int(when.timestamp())
    if kind == "failure":
        codes = stripe.FAILURES[FailureReason.AUTHENTICATION_FAILED][0]
        event = stripe.failure(rng, stripe_order, payment, codes, at=at)
    else:
        event = stripe.success(rng, stripe_order, payment, at=at)
    return stripe.signed(event, ALPHA_SECRET, now=int(time.time()))


def adyen_request(kind: str, order: str, when, *, email=CAMILLE, amount=8900):
    fixture = "authorisation.refused.json" if kind == "failure" else "authorisation.success.json"
    item = load(fixture, key=None)
    item.update(
        merchantReference=order,
        pspReference=f"PSP{order.replace('-', '')}{kind[0].upper()}",
        eventDate=when.isoformat(),
        amount={"currency": "EUR", "value": amount},
    )
    item["additionalData"]["shopperEmail"] = email
    return adyen.signed([item], KEY)


@pytest.mark.django_db
@pytest.mark.parametrize("success_first", [False, True], ids=["in order", "success first"])
@pytest.mark.parametrize(
    ("failing", "paying"),
    [
        (("stripe", stripe_request), ("adyen", adyen_request)),
        (("adyen", adyen_request), ("stripe", stripe_request)),
    ],
    ids=["stripe failure, adyen success", "adyen failure, stripe success"],
)
def test_across_two_providers(client, shop, failing, paying, success_first):
    now = timezone.now().replace(microsecond=0)
    failure = (failing[0], failing[1]("failure", "ML-1", now - timedelta(minutes=10)))
    success = (
        paying[0],
        paying[1]("success", "ML-2", now - timedelta(minutes=4), email="Camille@Example.COM"),
    )
    for provider, request in [success, failure] if success_first else [failure, success]:
        deliver(client, shop, provider, request)
    found = sale(shop)
    assert found.provider == failing[0]
    assert (found.status, found.recovered_by) == ("recovered", "another_order")
    assert found.recovered_by_payment.provider == paying[0]
    assert found.recovered_by_payment.order_reference == "ML-2"
    assert found.recovered_at == now - timedelta(minutes=4)
    assert not scheduled(shop).exists()
    # The API and the dashboard say so.
    api = client.get(
        f"/api/v1/lost-sales/{found.pk}/", HTTP_AUTHORIZATION=f"Bearer {shop.raw_api_key}"
    ).json()
    assert (api["status"], api["recovered_by"], api["recovered_with_order"]) == (
        "recovered",
        "another_order",
        "ML-2",
    )


@pytest.mark.django_db
def test_across_two_providers_too_little_or_another_buyer_recovers_nothing(client, shop):
    now = timezone.now().replace(microsecond=0)
    deliver(client, shop, "stripe", stripe_request("failure", "ML-1", now - timedelta(minutes=9)))
    deliver(
        client,
        shop,
        "adyen",
        adyen_request("success", "ML-2", now - timedelta(minutes=5), amount=2000),
    )
    deliver(
        client,
        shop,
        "adyen",
        adyen_request("success", "ML-3", now - timedelta(minutes=4), email="zoe@example.com"),
    )
    assert sale(shop).status == "open"
    assert scheduled(shop).filter(kind="payment_recovery").count() == 3


# --- The dashboard ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_dashboard_says_paid_with_another_order(alpha, alpha_client):
    apply(alpha, fail(), pay(amount=9900))
    found = sale(alpha)
    listing = alpha_client.get("/app/alpha/lost-sales/").content.decode()
    assert "Paid with another order: ML-2" in listing
    page = alpha_client.get(f"/app/alpha/lost-sales/{found.pk}/").content.decode()
    assert "Paid with another order: ML-2, 99,00" in page
    # The same order paid: no such words.
    apply(alpha, fail("ML-7", 30, buyer_email="zoe@example.com"))
    apply(alpha, pay("ML-7", 40, buyer_email="zoe@example.com"))
    other = alpha_client.get(f"/app/alpha/lost-sales/{sale(alpha, 'ML-7').pk}/").content.decode()
    assert "another order" not in other


# --- Two workers at once ------------------------------------------------------------------------


def _waiting_on_an_advisory_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        return cursor.fetchone()[0] > 0


def race(tenant, first, second) -> None:
    """Apply `first` in a transaction left open until `second`, applied by another worker once
    `first` is applied, either waits on a lock or has committed; then commit `first`. Without
    a lock between them, `second` never sees `first`."""
    # Made beforehand: two workers making the storefront's first policy row would wait on
    # each other's INSERT, a wait of its own this test is not about.
    RecoveryPolicy.for_storefront(tenant.storefront)
    first_applied, second_done, errors = threading.Event(), threading.Event(), []

    def run_first():
        try:
            with transaction.atomic():
                apply(tenant, first)
                first_applied.set()
                wait_for(lambda: second_done.is_set() or _waiting_on_an_advisory_lock())
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            first_applied.set()
            connection.close()

    def run_second():
        try:
            assert first_applied.wait(timeout=30)
            with transaction.atomic():
                apply(tenant, second)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            second_done.set()
            connection.close()

    threads = [threading.Thread(target=run_first), threading.Thread(target=run_second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("success_first", [False, True], ids=["failure first", "success first"])
def test_a_failure_and_a_success_processed_at_once_end_recovered(alpha, success_first):
    events = (pay(), fail()) if success_first else (fail(), pay())
    race(alpha, *events)
    found = sale(alpha)
    assert (found.status, found.recovered_by) == ("recovered", "another_order")
    assert not scheduled(alpha).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("success_first", [False, True], ids=["failure first", "success first"])
def test_without_the_buyer_lock_the_race_leaves_the_sale_open(alpha, monkeypatch, success_first):
    """Why the lock is there: the same race, the lock taken away, and each worker misses the
    other's uncommitted row."""
    monkeypatch.setattr(ingest, "_lock_buyers", lambda storefront, addresses: None)
    events = (pay(), fail()) if success_first else (fail(), pay())
    race(alpha, *events)
    assert sale(alpha).status == "open"
    assert scheduled(alpha).filter(kind="payment_recovery").count() == 3


# --- The migration ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_marks_existing_recoveries_as_the_same_orders(make_tenant):
    from django.db.migrations.executor import MigrationExecutor

    before = [("payments", "0008_lostsale_invalid_buyer_email")]
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(before)
        old = executor.loader.project_state(before).apps
        OldSale = old.get_model("payments", "LostSale")
        OldPayment = old.get_model("payments", "Payment")
        storefront = make_tenant("Alpha", ALPHA_SECRET).storefront
        common = {"storefront_id": storefront.pk, "provider": "stripe"}
        dates = {"first_failed_at": T0, "last_failed_at": T0, "attempts": 1}
        paid = OldSale.objects.create(
            key="order:A", status="recovered", recovered_at=T0, **common, **dates
        )
        waiting = OldSale.objects.create(key="order:B", **common, **dates)
        payments = {"lost_sale_id": paid.pk, "last_event_at": T0, **common}
        OldPayment.objects.create(status="failed", **payments)
        first = OldPayment.objects.create(status="succeeded", succeeded_at=T0, **payments)
        later = T0 + timedelta(hours=1)
        OldPayment.objects.create(status="succeeded", succeeded_at=later, **payments)
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    migrated = {s.key: s for s in LostSale.objects.for_storefront(storefront)}
    assert migrated["order:A"].recovered_by == "same_order"
    assert migrated["order:A"].recovered_by_payment_id == first.pk
    assert (migrated["order:B"].recovered_by, migrated["order:B"].recovered_by_payment) == (
        "",
        None,
    )
    assert waiting.pk == migrated["order:B"].pk
