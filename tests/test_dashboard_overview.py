"""The overview page and the daily statistics under it (payments.stats)."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from dashboard.forms.overview import PeriodForm
from notifications.models import Suppression
from payments import stats
from payments.models import DailyStat, LostSale
from payments.services import ingest, merchant, recovery
from payments.signals import SignalKind
from storefront_settings.models import Membership
from tests.factories import DailyStatFactory, ShipmentFactory, SuppressionFactory
from tests.payments_helpers import signal


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def fail(storefront, order, when, *, reason_code="insufficient_funds", **fields):
    fields.setdefault("payment_id", f"pi_{order}")
    # A buyer per order: one buyer's success would recover their other orders' sales.
    fields.setdefault("buyer_email", f"{order.lower()}@example.com")
    return ingest.apply_signal(
        storefront=storefront,
        signal=signal(
            order_reference=order,
            occurred_at=when,
            codes={"code": "card_declined", "decline_code": reason_code},
            **fields,
        ),
    )


def pay(storefront, order, when, **fields):
    fields.setdefault("payment_id", f"pi_{order}")
    fields.setdefault("buyer_email", f"{order.lower()}@example.com")
    return ingest.apply_signal(
        storefront=storefront,
        signal=signal(SignalKind.SUCCEEDED, order_reference=order, occurred_at=when, **fields),
    )


def sale(storefront, order) -> LostSale:
    return LostSale.objects.for_storefront(storefront).get(order_reference=order)


@pytest.fixture
def shop(two_storefronts):
    """Alpha (Europe/Paris, EUR, French) with a week of sales worked out by hand below, and
    Bravo with sales on the same days that Alpha must never count."""
    alpha, bravo = two_storefronts
    sf = alpha.storefront
    # A: fails late on 10 Nov (23:30 in Paris), clicked, paid on 12 Nov: recovered after a click.
    fail(sf, "A-1", at("2026-11-10T22:30:00"), amount=8900)
    LostSale.objects.for_storefront(sf).filter(order_reference="A-1").update(
        recovery_clicked_at=at("2026-11-11T08:00:00")
    )
    pay(sf, "A-1", at("2026-11-12T10:00:00"), amount=8900)
    # B: card expired just after midnight on 11 Nov in Paris, then declined on 13 Nov (its
    # latest failure, so its day and reason now). Still open.
    fail(sf, "B-1", at("2026-11-10T23:30:00"), amount=5000, reason_code="expired_card")
    fail(
        sf,
        "B-1",
        at("2026-11-13T09:00:00"),
        amount=5000,
        reason_code="do_not_honor",
        attempt_id="ch_b2",
    )
    # C: abandoned on 12 Nov, then given up by the merchant.
    ingest.apply_signal(
        storefront=sf,
        signal=signal(
            SignalKind.ABANDONED,
            order_reference="C-1",
            payment_id="cs_C-1",
            occurred_at=at("2026-11-12T15:00:00"),
            amount=3000,
            codes={"cancellation_reason": "abandoned"},
        ),
    )
    merchant.mark_lost(lost_sale=sale(sf, "C-1"))
    # D: in dollars on 12 Nov, paid on 14 Nov without a click.
    fail(sf, "D-1", at("2026-11-12T11:00:00"), amount=1000, currency="USD")
    pay(sf, "D-1", at("2026-11-14T11:00:00"), amount=1000, currency="USD")
    # E: no address on 14 Nov; F: a suppressed address on 14 Nov. Both open, unreachable.
    fail(
        sf,
        "E-1",
        at("2026-11-14T10:00:00"),
        amount=2000,
        buyer_email="",
        reason_code="xyz_unmapped",
    )
    SuppressionFactory(storefront=sf, email="f@example.com", reason=Suppression.Reason.BOUNCED)
    fail(
        sf,
        "F-1",
        at("2026-11-14T12:00:00"),
        amount=4000,
        buyer_email="F@Example.com",
        reason_code="incorrect_cvc",
    )
    # G: 23:30 UTC on 14 Nov is 00:30 on 15 Nov in Paris.
    fail(sf, "G-1", at("2026-11-14T23:30:00"), amount=7000, reason_code="card_velocity_exceeded")

    # Bravo: the same kind of activity on the same days.
    fail(bravo.storefront, "A-1", at("2026-11-12T10:00:00"), amount=99900, buyer_email="")
    pay(bravo.storefront, "A-1", at("2026-11-13T10:00:00"), amount=99900)
    fail(bravo.storefront, "Z-1", at("2026-11-12T10:00:00"), amount=55500, buyer_email="")

    # Parcels: stalled; late and moving; late but delivered (no longer needs anything);
    # in exception; in exception and stalled. And a Bravo parcel of each kind.
    now = timezone.now()
    parcels = [
        {"stalled_since": now},
        {"late_since": now, "status": "in_transit"},
        {"late_since": now, "status": "delivered"},
        {"status": "exception"},
        {"status": "exception", "stalled_since": now},
    ]
    for fields in parcels:
        for tenant in (alpha, bravo):
            ShipmentFactory(
                storefront=tenant.storefront, last_news_at=now - timedelta(days=5), **fields
            )
    client_for = alpha
    return client_for, bravo


FIGURE = re.compile(r'data-figure="(?P<name>[a-z_]+)" data-value="(?P<value>[^"]*)"')


def figures(response) -> dict[str, str]:
    return {m["name"]: m["value"] for m in FIGURE.finditer(response.content.decode())}


def get(client, slug="alpha", **params):
    return client.get(f"/app/{slug}/", params)


@pytest.mark.django_db
def test_the_figures_are_the_hand_computed_ones(client, shop):
    alpha, _ = shop
    client.force_login(alpha.owner)
    response = get(client, period="custom", **{"from": "2026-11-10", "to": "2026-11-14"})
    assert response.status_code == 200
    assert figures(response) == {
        # A, B, C, D, E, F by the day of their latest failure; G is 15 Nov in Paris.
        "failed_count": "6",
        "failed_amount": str(8900 + 5000 + 3000 + 2000 + 4000),  # D is in dollars
        "open_count": "3",  # B, E, F
        "recovered_count": "2",  # A, D
        "lost_count": "1",  # C
        "recovered_revenue": "8900",  # A on 12 Nov (and D's 10 $ apart)
        "recovery_rate": "0.3333",
        "recovered_after_click": "8900",
        "unreachable": "2",  # E (no address) and F (suppressed, whatever the case)
        "stalled": "2",
        "late": "1",
        "exception": "2",
    }
    body = response.content.decode()
    assert "229,00\xa0€" in body  # the shop's currency and language
    assert "+ 10,00\xa0$US" in body  # the dollars are shown apart, never added to euros
    assert "33,3\xa0%" in body


@pytest.mark.django_db
def test_failures_count_on_their_day_and_recoveries_on_theirs(client, shop):
    alpha, _ = shop
    client.force_login(alpha.owner)
    middle = figures(get(client, **{"from": "2026-11-11", "to": "2026-11-13"}))
    # B (13), C (12), D (12) failed then; A's 10 Nov failure did not, but its payment came
    # back on 12 Nov; D's came back on 14 Nov.
    assert (middle["failed_count"], middle["recovered_count"], middle["open_count"]) == (
        "3",
        "1",
        "1",
    )
    assert middle["recovered_revenue"] == "8900"
    assert middle["recovered_after_click"] == "8900"
    assert middle["recovery_rate"] == "0.3333"
    fifteenth = figures(get(client, **{"from": "2026-11-15", "to": "2026-11-15"}))
    assert (fifteenth["failed_count"], fifteenth["failed_amount"]) == ("1", "7000")  # G
    assert fifteenth["recovered_revenue"] == "0"


@pytest.mark.django_db
def test_days_are_the_storefronts_days(client, shop):
    alpha, _ = shop
    client.force_login(alpha.owner)
    fourteenth = {"from": "2026-11-14", "to": "2026-11-14"}
    assert figures(get(client, **fourteenth))["failed_count"] == "2"  # E, F; G is 15 Nov
    alpha.storefront.time_zone = "UTC"
    alpha.storefront.save()
    stats.rebuild(storefront=alpha.storefront)  # a new time zone moves the day boundaries
    assert figures(get(client, **fourteenth))["failed_count"] == "3"  # and G, in UTC
    # B's first failure (23:30 UTC on 10 Nov) no longer matters: its latest is 13 Nov.
    assert figures(get(client, **{"from": "2026-11-10", "to": "2026-11-10"}))["failed_count"] == (
        "1"
    )


@pytest.mark.django_db
def test_the_reasons_with_their_plain_words_and_links(client, shop):
    alpha, _ = shop
    client.force_login(alpha.owner)
    body = get(client, **{"from": "2026-11-10", "to": "2026-11-14"}).content.decode()
    rows = dict(re.findall(r'<tr data-reason="([a-z_]+)">(.*?)</tr>', body, re.S))
    assert set(rows) == {
        "insufficient_funds",  # A, D
        "bank_declined",  # B's latest attempt
        "abandoned",  # C
        "unknown",  # E
        "card_details_incorrect",  # F
    }
    assert list(rows)[0] == "insufficient_funds"  # the most sales first
    funds = rows["insufficient_funds"]
    assert "89,00\xa0€" in funds and "10,00\xa0$US" in funds
    assert "The bank declined the payment for insufficient funds." in funds
    assert "other payment methods" in funds  # what the merchant can do
    assert (
        "/app/alpha/lost-sales/?reason=bank_declined&amp;from=2026-11-10&amp;to=2026-11-14"
        in rows["bank_declined"]
    )
    assert "/app/alpha/lost-sales/?status=open&amp;from=2026-11-10&amp;to=2026-11-14" in body
    assert "/app/alpha/shipments/?stalled=true" in body
    assert "/app/alpha/shipments/?late=true" in body
    assert "/app/alpha/shipments/?status=exception" in body
    # The chart: one group of two bars per day, and the table that says it in words.
    assert body.count('<rect class="bar failed"') == 5
    assert '<th scope="row">' in body


@pytest.mark.django_db
def test_todays_activity_shows_at_once(client, two_storefronts):
    alpha, _ = two_storefronts
    client.force_login(alpha.owner)
    assert figures(get(client))["failed_count"] == "0"  # the default: the last 30 days
    now = timezone.now()
    fail(alpha.storefront, "T-1", now - timedelta(seconds=5), amount=4200)
    page = figures(get(client))
    assert (page["failed_count"], page["failed_amount"], page["open_count"]) == ("1", "4200", "1")
    pay(alpha.storefront, "T-1", now, amount=4200)
    page = figures(get(client, period="7"))
    assert (page["recovered_count"], page["recovered_revenue"]) == ("1", "4200")
    assert page["recovery_rate"] == "1.0000"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "explanation"),
    [
        ({"period": "12"}, "Select a valid choice"),
        ({"period": "custom"}, "Give both a start date and an end date."),
        ({"from": "2026-11-01"}, "Give both a start date and an end date."),
        ({"from": "2026-11-20", "to": "2026-11-10"}, "The end date is before the start date."),
        ({"from": "2026-13-01", "to": "2026-11-10"}, "Enter a valid date."),
        ({"period": "7", "from": "2026-11-01", "to": "2026-11-02"}, "not both"),
        ({"from": "2024-01-01", "to": "2026-11-10"}, "Choose at most 366 days."),
    ],
)
def test_a_bad_period_is_a_400_that_says_why(client, shop, params, explanation):
    alpha, _ = shop
    client.force_login(alpha.owner)
    response = get(client, **params)
    assert response.status_code == 400
    body = response.content.decode()
    assert explanation in body
    assert "data-figure" not in body


def test_the_period_form_uses_the_shops_calendar():
    from storefront_settings.models import Storefront

    shop = Storefront(time_zone="Pacific/Auckland")
    form = PeriodForm({"period": "7"}, storefront=shop, now=at("2026-11-25T12:00:00"))
    assert form.is_valid()
    assert form.range == (date(2026, 11, 20), date(2026, 11, 26))  # already the 26th there


@pytest.mark.django_db
def test_another_storefronts_overview_is_404(client, shop):
    alpha, bravo = shop
    client.force_login(alpha.owner)
    assert get(client, "bravo").status_code == 404
    assert get(client, "nope").status_code == 404
    client.force_login(bravo.owner)
    bravo_page = figures(get(client, "bravo", **{"from": "2026-11-10", "to": "2026-11-14"}))
    assert (bravo_page["failed_count"], bravo_page["recovered_revenue"]) == ("2", "99900")
    assert (bravo_page["unreachable"], bravo_page["stalled"]) == ("1", "2")


@pytest.mark.django_db
def test_viewers_see_it_and_nobody_posts_to_it(client, shop):
    alpha, _ = shop
    alpha.membership.role = Membership.Role.VIEWER
    alpha.membership.save()
    client.force_login(alpha.owner)
    assert get(client).status_code == 200
    before = list(DailyStat.objects.for_storefront(alpha.storefront).values())
    assert client.post("/app/alpha/").status_code == 403
    alpha.membership.role = Membership.Role.STAFF
    alpha.membership.save()
    assert client.post("/app/alpha/").status_code == 405
    assert list(DailyStat.objects.for_storefront(alpha.storefront).values()) == before
    client.logout()
    assert get(client).status_code == 302  # to the login page


@pytest.mark.django_db
def test_the_page_takes_a_bounded_number_of_queries(client, shop, django_assert_max_num_queries):
    alpha, _ = shop
    client.force_login(alpha.owner)
    # Session, user, storefront, membership; two reads of the statistics, the unreachable
    # buyers, three counts of parcels: the same for a week as for a year.
    with django_assert_max_num_queries(10):
        assert get(client, period="90").status_code == 200
    with django_assert_max_num_queries(10):
        assert get(client, **{"from": "2025-11-25", "to": "2026-11-25"}).status_code == 200


def nonzero_stats(storefront) -> set[tuple]:
    rows = DailyStat.objects.for_storefront(storefront).values_list(
        "day", "reason", "currency", *stats.FIELDS
    )
    return {row for row in rows if any(row[3:])}


@pytest.mark.django_db
def test_incremental_upkeep_equals_a_rebuild(shop):
    alpha, bravo = shop
    sf = alpha.storefront
    # More of everything on top of the fixture's mix: a retry with a new amount and reason, a
    # failure older than the sale's latest (out of order), a success before its failure, a
    # success with no amount, expiry of what is old, a replayed event.
    fail(sf, "H-1", at("2026-11-16T09:00:00"), amount=1500)
    fail(sf, "H-1", at("2026-11-17T09:00:00"), amount=1700, reason_code="incorrect_zip",
         attempt_id="ch_h2")  # fmt: skip
    fail(sf, "H-1", at("2026-11-15T09:00:00"), amount=1600, attempt_id="ch_h0")  # older
    pay(sf, "I-1", at("2026-11-18T09:00:00"), amount=2500)
    fail(sf, "I-1", at("2026-11-17T09:00:00"), amount=2500)  # the success came first
    fail(sf, "J-1", at("2026-11-18T09:00:00"), amount=900)
    pay(sf, "J-1", at("2026-11-19T09:00:00"), amount=None)
    replayed = signal(order_reference="J-1", payment_id="pi_J-1", event_id="evt_same",
                      occurred_at=at("2026-11-18T10:00:00"))  # fmt: skip
    ingest.apply_signal(storefront=sf, signal=replayed)
    ingest.apply_signal(storefront=sf, signal=replayed)
    fail(sf, "K-1", at("2026-11-24T09:00:00"), amount=1200, currency="GBP")
    assert recovery.expire_lost_sales(now=at("2026-11-22T00:00:00")) > 0
    merchant.mark_lost(lost_sale=sale(sf, "K-1"))
    merchant.mark_lost(lost_sale=sale(sf, "K-1"))  # twice: counted once

    kept = nonzero_stats(sf)
    assert kept
    for tenant in (alpha, bravo):
        before = nonzero_stats(tenant.storefront)
        call_command("rebuild_daily_stats", "--storefront", tenant.storefront.slug)
        assert nonzero_stats(tenant.storefront) == before
    # And one figure by hand: H is one sale on 17 Nov (its latest failure), for 17,00 €.
    seventeenth = {
        r for r in kept if r[0] == date(2026, 11, 17) and r[1] == "card_details_incorrect"
    }
    assert [(r[3], r[4]) for r in seventeenth] == [(1, 1700)]


@pytest.mark.django_db
def test_rebuild_replaces_what_drifted_and_the_command_names_bad_slugs(shop):
    alpha, bravo = shop
    expected = nonzero_stats(alpha.storefront)
    DailyStat.objects.for_storefront(alpha.storefront).update(failed_count=0)
    DailyStatFactory(
        storefront=alpha.storefront, day=date(2020, 1, 1), reason="unknown", failed_count=7
    )
    call_command("rebuild_daily_stats")
    assert nonzero_stats(alpha.storefront) == expected
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="nope"):
        call_command("rebuild_daily_stats", "--storefront", "nope")


@pytest.mark.django_db
def test_the_default_is_the_last_30_days_and_the_page_says_so(client, two_storefronts):
    alpha, _ = two_storefronts
    client.force_login(alpha.owner)
    body = get(client).content.decode()
    today = timezone.now().astimezone(alpha.storefront.zone).date()
    start = today - timedelta(days=29)
    assert '<a href="?period=30" aria-current="true">' in body
    assert f'name="from" value="{start.isoformat()}"' in body
    assert f'name="to" value="{today.isoformat()}"' in body
    assert "(Europe/Paris)" in body
    assert body.count('<rect class="bar failed"') == 0  # nothing to draw: said in words
    assert "Nothing failed or came back in this period." in body
    custom = get(client, **{"from": "2026-11-01", "to": "2026-11-03"}).content.decode()
    assert 'aria-current="true"' not in custom
    assert 'name="from" value="2026-11-01"' in custom


@pytest.mark.django_db(transaction=True)
def test_workers_racing_on_the_same_days_keep_the_statistics_exact(two_storefronts):
    """Twelve workers at once, each recording a failure of the same six orders (newer amounts
    win) and some paying: every change lands in the same few buckets, none is lost or counted
    twice."""
    import threading

    from django.db import connection, transaction

    sf = two_storefronts[0].storefront
    start = at("2026-11-20T10:00:00")
    barrier, errors = threading.Barrier(12), []

    def work(k):
        try:
            barrier.wait()
            for n in range(6):
                with transaction.atomic():
                    fail(sf, f"R-{n}", start + timedelta(minutes=k), amount=1000 + k,
                         attempt_id=f"ch_{k}_{n}")  # fmt: skip
            if k % 3 == 0:
                with transaction.atomic():
                    pay(sf, f"R-{k % 6}", start + timedelta(hours=1), amount=2000)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(k,)) for k in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    kept = nonzero_stats(sf)
    stats.rebuild(storefront=sf)
    assert nonzero_stats(sf) == kept
    totals = DailyStat.objects.for_storefront(sf).values_list("failed_count", "recoveries")
    # Six sales; workers 0, 3, 6 and 9 paid R-0 and R-3 (each once, whichever came first).
    assert [sum(column) for column in zip(*totals, strict=True)] == [6, 2]
