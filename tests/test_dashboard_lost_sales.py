import re
from datetime import UTC, datetime, time, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from dashboard.views import lost_sales as views
from notifications.models import Message
from notifications.services import outbox, sending
from payments.models import LostSale
from payments.services import ingest
from payments.signals import SignalKind
from storefront_settings.models import AuditLog, Membership
from tests.factories import LostSaleFactory
from tests.payments_helpers import signal


def make_sale(storefront, at=datetime(2026, 11, 20, 10, 0, tzinfo=UTC), **fields) -> LostSale:
    """A lost sale as the list sees it, without the emails (list tests need rows, not mail)."""
    return LostSaleFactory(storefront=storefront, first_failed_at=at, last_failed_at=at, **fields)


def orders(response) -> list[str]:
    """The order references in the list, top to bottom."""
    return re.findall(r'/lost-sales/\d+/">([^<]+)</a>', response.content.decode())


def audit(storefront, action):
    return AuditLog.objects.for_storefront(storefront).filter(action=action)


@pytest.fixture
def sales(two_storefronts):
    alpha, bravo = two_storefronts
    ingest.apply_signal(storefront=alpha.storefront, signal=signal())
    ingest.apply_signal(storefront=bravo.storefront, signal=signal(order_reference="B-1"))
    return alpha, bravo


@pytest.fixture
def open_sale(alpha):
    """A sale that failed five minutes ago: its three recovery emails are all still ahead."""
    ingest.apply_signal(
        storefront=alpha.storefront,
        signal=signal(occurred_at=timezone.now() - timedelta(minutes=5), order_reference="ML-9"),
    )
    return LostSale.objects.for_storefront(alpha.storefront).get(order_reference="ML-9")


def recovery_emails(sale):
    return Message.objects.for_storefront(sale.storefront).filter(
        group=sale.group, kind="payment_recovery"
    )


def quiet_hours(storefront, *, now_inside: bool):
    """Quiet hours around the present moment, or none at all: what send-now does must not
    depend on the time the tests run."""
    if now_inside:
        local = timezone.now().astimezone(storefront.zone)
        storefront.quiet_hours_start = (local - timedelta(hours=1)).time()
        storefront.quiet_hours_end = (local + timedelta(hours=1)).time()
    else:
        storefront.quiet_hours_start = storefront.quiet_hours_end = time(0, 0)
    storefront.save()


# The list


@pytest.mark.django_db
def test_the_list_shows_the_storefronts_sales_only_with_their_count(client, sales):
    alpha, bravo = sales
    client.force_login(alpha.owner)
    response = client.get("/app/alpha/lost-sales/")
    assert response.status_code == 200
    body = response.content.decode()
    assert orders(response) == ["ML-1"]
    assert "B-1" not in body
    assert "1 lost sale" in body
    assert "89,00" in body  # amount_display in the storefront's language (French)
    assert "Insufficient funds" in body  # the reason in plain words
    assert "camille@example.com" in body


@pytest.mark.django_db
def test_each_url_is_404_for_another_storefront(client, sales):
    alpha, bravo = sales
    theirs = LostSale.objects.for_storefront(bravo.storefront).get()
    client.force_login(alpha.owner)
    assert client.get("/app/bravo/lost-sales/").status_code == 404
    for slug in ("alpha", "bravo"):
        base = f"/app/{slug}/lost-sales/{theirs.pk}/"
        assert client.get(base).status_code == 404
        for action in ("send-now/", "stop/", "mark-lost/"):
            assert client.post(base + action).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == LostSale.Status.OPEN
    assert recovery_emails(theirs).filter(status="scheduled").count() == 3
    assert not AuditLog.objects.for_storefront(bravo.storefront).filter(
        action__startswith="lost_sale."
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "recovered"}, ["T-recovered"]),
        ({"status": "lost"}, ["T-lost"]),
        ({"reason": "card_expired"}, ["T-lost"]),
        ({"status": "open", "reason": "bank_declined"}, ["T-open"]),
    ],
)
def test_status_and_reason_filters(alpha_client, alpha, query, expected):
    sf = alpha.storefront
    make_sale(sf, order_reference="T-open")
    make_sale(sf, order_reference="T-recovered", status="recovered")
    make_sale(sf, order_reference="T-lost", status="lost", reason="card_expired")
    response = alpha_client.get("/app/alpha/lost-sales/", query)
    assert response.status_code == 200
    assert orders(response) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("period", "expected"), [("7", ["3d"]), ("30", ["3d", "20d"]), ("90", ["3d", "20d", "60d"])]
)
def test_period_filter(alpha_client, alpha, period, expected):
    now = timezone.now()
    for days in (3, 20, 60, 200):
        make_sale(alpha.storefront, order_reference=f"{days}d", at=now - timedelta(days=days))
    response = alpha_client.get("/app/alpha/lost-sales/", {"period": period})
    assert orders(response) == expected
    assert len(orders(alpha_client.get("/app/alpha/lost-sales/"))) == 4


@pytest.mark.django_db
def test_dates_are_days_in_the_storefronts_time_zone(alpha_client, alpha):
    sf = alpha.storefront  # Europe/Paris, UTC+1 in November
    make_sale(sf, order_reference="10th-late", at=datetime(2026, 11, 10, 22, 30, tzinfo=UTC))
    make_sale(sf, order_reference="11th-early", at=datetime(2026, 11, 10, 23, 30, tzinfo=UTC))
    make_sale(sf, order_reference="11th-late", at=datetime(2026, 11, 11, 22, 30, tzinfo=UTC))
    make_sale(sf, order_reference="12th-early", at=datetime(2026, 11, 11, 23, 30, tzinfo=UTC))
    day = alpha_client.get("/app/alpha/lost-sales/", {"from": "2026-11-11", "to": "2026-11-11"})
    assert day.status_code == 200
    assert orders(day) == ["11th-late", "11th-early"]
    assert orders(alpha_client.get("/app/alpha/lost-sales/", {"to": "2026-11-10"})) == ["10th-late"]
    assert orders(alpha_client.get("/app/alpha/lost-sales/", {"from": "2026-11-12"})) == [
        "12th-early"
    ]
    sf.time_zone = "UTC"
    sf.save()
    utc_day = alpha_client.get("/app/alpha/lost-sales/", {"from": "2026-11-11", "to": "2026-11-11"})
    assert orders(utc_day) == ["12th-early", "11th-late"]


@pytest.mark.django_db
def test_times_are_shown_in_the_storefronts_time_zone(alpha_client, alpha):
    make_sale(alpha.storefront, at=datetime(2026, 11, 20, 10, 0, tzinfo=UTC))
    body = alpha_client.get("/app/alpha/lost-sales/").content.decode()
    assert 'datetime="2026-11-20T11:00:00+01:00"' in body
    alpha.storefront.time_zone = "America/New_York"
    alpha.storefront.save()
    body = alpha_client.get("/app/alpha/lost-sales/").content.decode()
    assert 'datetime="2026-11-20T05:00:00-05:00"' in body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("50", ["T-5000", "T-7500"]),
        ("49,90", ["T-4990", "T-5000", "T-7500"]),
        ("49.90", ["T-4990", "T-5000", "T-7500"]),
        (" 75 ", ["T-7500"]),
        ("0", ["T-4989", "T-4990", "T-5000", "T-7500"]),
    ],
)
def test_minimum_amount_is_typed_in_major_units(alpha_client, alpha, typed, expected):
    for cents in (4989, 4990, 5000, 7500):
        make_sale(alpha.storefront, order_reference=f"T-{cents}", amount=cents)
    make_sale(alpha.storefront, order_reference="T-none", amount=None)
    response = alpha_client.get("/app/alpha/lost-sales/", {"min_amount": typed, "sort": "amount"})
    assert response.status_code == 200
    assert orders(response) == expected


@pytest.mark.django_db
def test_minimum_amount_follows_the_currencys_decimals(alpha_client, alpha):
    alpha.storefront.currency = "JPY"
    alpha.storefront.save()
    make_sale(alpha.storefront, order_reference="T-yen", amount=500, currency="JPY")
    assert orders(alpha_client.get("/app/alpha/lost-sales/", {"min_amount": "500"})) == ["T-yen"]
    assert orders(alpha_client.get("/app/alpha/lost-sales/", {"min_amount": "501"})) == []
    assert alpha_client.get("/app/alpha/lost-sales/", {"min_amount": "5,5"}).status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("ml-100", ["ML-1001", "ML-1002"]),  # order reference, any case
        ("ML-1001", ["ML-1001"]),
        ("CAMILLE@", ["ML-1001"]),  # email, any case
        ("@shop.example", ["ML-1002"]),
        ("nobody", []),
    ],
)
def test_search_by_order_reference_or_email(alpha_client, alpha, q, expected):
    at = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    make_sale(alpha.storefront, order_reference="ML-1001", buyer_email="camille@example.com")
    make_sale(
        alpha.storefront,
        order_reference="ML-1002",
        buyer_email="jo@shop.example",
        at=at - timedelta(hours=1),
    )
    response = alpha_client.get("/app/alpha/lost-sales/", {"q": q})
    assert response.status_code == 200
    assert orders(response) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (None, ["new-big", "mid-small", "old-none", "old-open"]),
        ("-date", ["new-big", "mid-small", "old-none", "old-open"]),
        # Same time: the primary key keeps one order (created old-open, then old-none).
        ("date", ["old-open", "old-none", "mid-small", "new-big"]),
        # Unknown amounts last both ways; equal amounts newest first.
        ("-amount", ["new-big", "old-open", "mid-small", "old-none"]),
        ("amount", ["mid-small", "old-open", "new-big", "old-none"]),
        ("status", ["old-none", "old-open", "new-big", "mid-small"]),
        ("-status", ["mid-small", "new-big", "old-none", "old-open"]),
    ],
)
def test_sortable_columns_with_a_stable_order(alpha_client, alpha, sort, expected):
    at = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    sf = alpha.storefront
    make_sale(sf, order_reference="old-open", at=at - timedelta(days=2), amount=3000)
    make_sale(sf, order_reference="old-none", at=at - timedelta(days=2), amount=None)
    make_sale(
        sf, order_reference="mid-small", at=at - timedelta(days=1), amount=1000, status="lost"
    )
    make_sale(sf, order_reference="new-big", at=at, amount=9000, status="recovered")
    response = alpha_client.get("/app/alpha/lost-sales/", {"sort": sort} if sort else {})
    assert response.status_code == 200
    assert orders(response) == expected


@pytest.mark.django_db
def test_sort_links_keep_the_filters_and_flip_the_direction(alpha_client, alpha):
    make_sale(alpha.storefront)
    body = alpha_client.get("/app/alpha/lost-sales/", {"status": "open", "sort": "-amount"}).content
    body = body.decode()
    assert '<th class="num" aria-sort="descending"><a href="?status=open&amp;sort=amount">' in body
    assert 'href="?status=open&amp;sort=-date"' in body


@pytest.mark.django_db
def test_pages_keep_the_filters(alpha_client, alpha):
    at = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    for n in range(views.PAGE_SIZE + 5):
        make_sale(alpha.storefront, order_reference=f"P-{n:02}", at=at - timedelta(hours=n))
    make_sale(alpha.storefront, order_reference="other", status="recovered", at=at)
    first = alpha_client.get("/app/alpha/lost-sales/", {"status": "open", "q": "p-"})
    body = first.content.decode()
    assert f"{views.PAGE_SIZE + 5} lost sales" in body
    assert len(orders(first)) == views.PAGE_SIZE
    assert 'href="?status=open&amp;q=p-&amp;page=2" rel="next"' in body
    second = alpha_client.get("/app/alpha/lost-sales/", {"status": "open", "q": "p-", "page": "2"})
    assert orders(second) == [f"P-{n:02}" for n in range(views.PAGE_SIZE, views.PAGE_SIZE + 5)]
    assert 'href="?status=open&amp;q=p-&amp;page=1" rel="prev"' in second.content.decode()
    # A page past the end shows the last one rather than an error.
    assert orders(alpha_client.get("/app/alpha/lost-sales/", {"status": "open", "page": "9"})) == (
        orders(second)
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({"status": "gone"}, "Select a valid choice"),
        ({"reason": "nope"}, "Select a valid choice"),
        ({"period": "14"}, "Select a valid choice"),
        ({"sort": "password"}, "Select a valid choice"),
        ({"min_amount": "abc"}, "Enter an amount such as 50 or 49,90"),
        ({"min_amount": "-5"}, "Enter an amount such as 50 or 49,90"),
        ({"min_amount": "12,345"}, "Enter an amount such as 50 or 49,90"),
        ({"min_amount": "1,234.50"}, "Enter an amount such as 50 or 49,90"),
        ({"from": "yesterday"}, "Enter a valid date"),
        ({"from": "2026-11-12", "to": "2026-11-01"}, "The end date is before the start date"),
        ({"period": "7", "from": "2026-11-01"}, "Choose a period or dates, not both"),
        ({"q": "x" * 201}, "at most 200 characters"),
    ],
)
def test_bad_filters_answer_400_with_the_page_and_a_clear_message(alpha_client, alpha, query, says):
    make_sale(alpha.storefront, order_reference="T-hidden")
    response = alpha_client.get("/app/alpha/lost-sales/", query)
    assert response.status_code == 400
    body = response.content.decode()
    assert says in body
    assert '<form method="get" class="filters"' in body  # the page, with the form to fix
    assert "T-hidden" not in body  # no list pretending to be filtered


@pytest.mark.django_db
def test_the_list_says_which_sales_came_back_after_a_click(alpha_client, alpha):
    make_sale(alpha.storefront, order_reference="T-click", status="recovered")
    LostSale.objects.for_storefront(alpha.storefront).update(recovered_after_click=True)
    make_sale(alpha.storefront, order_reference="T-alone", status="recovered")
    body = alpha_client.get("/app/alpha/lost-sales/", {"sort": "date"}).content.decode()
    rows = body.split("<tbody>")[1].split("</tr>")
    assert "T-click" in rows[0] and '<span class="badge good">Yes</span>' in rows[0]
    assert "T-alone" in rows[1] and "<td>No</td>" in rows[1]
    assert '<span class="badge good">Recovered</span>' in rows[1]


@pytest.mark.django_db
def test_the_list_names_each_sales_payment_provider(alpha_client, alpha):
    # A shop with several providers sees which one each sale failed at, by its label.
    make_sale(alpha.storefront, order_reference="T-card", provider="stripe")
    make_sale(
        alpha.storefront,
        order_reference="T-bank",
        provider="lyra",
        at=datetime(2026, 11, 21, tzinfo=UTC),
    )
    body = alpha_client.get("/app/alpha/lost-sales/", {"sort": "date"}).content.decode()
    assert "<th>Provider</th>" in body
    rows = body.split("<tbody>")[1].split("</tr>")
    assert "T-card" in rows[0] and "<td>Stripe</td>" in rows[0]
    assert "T-bank" in rows[1]
    assert "<td>Lyra (PayZen, Systempay, Sogecommerce, Scellius)</td>" in rows[1]


@pytest.mark.django_db
def test_the_empty_list_explains_itself(alpha_client, alpha):
    body = alpha_client.get("/app/alpha/lost-sales/").content.decode()
    assert "No lost sale yet." in body
    assert "webhook" in body
    assert "0 lost sales" in body
    make_sale(alpha.storefront)
    body = alpha_client.get("/app/alpha/lost-sales/", {"status": "lost"}).content.decode()
    assert "No lost sale matches these filters." in body


@pytest.mark.django_db
@pytest.mark.parametrize(("page_size", "rows"), [(2, 2), (50, 40)])
def test_the_list_takes_a_bounded_number_of_queries(
    alpha_client, alpha, monkeypatch, django_assert_max_num_queries, page_size, rows
):
    monkeypatch.setattr(views, "PAGE_SIZE", page_size)
    for n in range(40):
        make_sale(alpha.storefront, status=["open", "recovered", "lost"][n % 3])
    alpha_client.get("/app/alpha/lost-sales/")  # the session and such, warmed up
    # session, user, storefront, membership, count, page of sales
    with django_assert_max_num_queries(6):
        response = alpha_client.get("/app/alpha/lost-sales/", {"sort": "status", "page": "2"})
    assert len(orders(response)) == rows  # the second page, or the only one


# One sale


@pytest.mark.django_db
def test_the_detail_shows_the_buyer_order_attempts_and_emails(client, sales):
    alpha, _ = sales
    ingest.apply_signal(
        storefront=alpha.storefront,
        signal=signal(
            minutes=30,
            payment_id="pi_2",
            related_ids=("ch_2",),
            buyer_phone="+33 6 12 34 56 78",
            codes={"code": "expired_card"},
        ),
    )
    sale = LostSale.objects.for_storefront(alpha.storefront).get()
    client.force_login(alpha.owner)
    response = client.get(f"/app/alpha/lost-sales/{sale.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    # The buyer: a mailto link, a copy button (hidden until the script shows it), the phone.
    assert 'href="mailto:camille@example.com"' in body
    assert 'data-copy="camille@example.com"' in body
    assert "Camille Martin" in body
    assert 'href="tel:+33612345678"' in body
    assert '<script src="/static/js/copy.js" defer></script>' in body
    # The order and the provider's ids.
    assert "ML-1" in body and "89,00" in body and "EUR" in body
    assert "<code>pi_1</code>" in body and "<code>pi_2</code>" in body
    assert "<code>ch_2</code>" in body
    # Every attempt, with its raw codes, at the shop's time.
    assert "<code>decline_code=insufficient_funds</code>" in body
    assert "<code>code=expired_card</code>" in body
    assert 'datetime="2026-11-20T11:00:00+01:00"' in body
    assert 'datetime="2026-11-20T11:30:00+01:00"' in body
    # The emails, in plain words, each linking to its preview.
    emails = Message.objects.for_storefront(alpha.storefront).filter(group=sale.group)
    assert emails.count() == 4
    for message in emails:
        assert f'href="/app/alpha/messages/{message.pk}/"' in body
    assert "Recovery email 1 of 3" in body and "Recovery email 3 of 3" in body
    assert "Alert to a team member" in body
    assert "payment_recovery_" not in body


@pytest.mark.django_db
def test_viewers_see_no_actions_but_can_copy_the_address(alpha_client, open_sale, alpha):
    alpha.membership.role = Membership.Role.VIEWER
    alpha.membership.save()
    body = alpha_client.get(f"/app/alpha/lost-sales/{open_sale.pk}/").content.decode()
    assert "Send the recovery email now" not in body
    assert "Mark this sale lost" not in body
    assert 'data-copy="camille@example.com"' in body


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["send-now", "stop", "mark-lost"])
def test_a_viewers_post_is_403_and_changes_nothing(alpha_client, open_sale, alpha, action):
    alpha.membership.role = Membership.Role.VIEWER
    alpha.membership.save()
    before = list(recovery_emails(open_sale).values_list("status", "next_attempt_at"))
    assert alpha_client.post(f"/app/alpha/lost-sales/{open_sale.pk}/{action}/").status_code == 403
    open_sale.refresh_from_db()
    assert open_sale.status == LostSale.Status.OPEN
    assert list(recovery_emails(open_sale).values_list("status", "next_attempt_at")) == before
    lost_sale_rows = AuditLog.objects.for_storefront(alpha.storefront).filter(
        action__startswith="lost_sale."
    )
    assert not lost_sale_rows.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["send-now", "stop", "mark-lost"])
def test_actions_take_post_only(alpha_client, open_sale, action):
    assert alpha_client.get(f"/app/alpha/lost-sales/{open_sale.pk}/{action}/").status_code == 405


@pytest.mark.django_db
def test_send_now_makes_the_next_recovery_email_due_and_the_outbox_sends_it(
    alpha_client, open_sale, alpha
):
    quiet_hours(alpha.storefront, now_inside=False)
    first, second, third = recovery_emails(open_sale).order_by("send_at")
    response = alpha_client.post(f"/app/alpha/lost-sales/{open_sale.pk}/send-now/", follow=True)
    assert response.redirect_chain == [(f"/app/alpha/lost-sales/{open_sale.pk}/", 302)]
    assert "goes out within a minute" in response.content.decode()
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == Message.Status.SCHEDULED
    assert first.next_attempt_at <= timezone.now()
    assert second.next_attempt_at == second.send_at  # the later steps keep their times
    entry = audit(alpha.storefront, "lost_sale.recovery_email_sent_now").get()
    assert entry.actor == alpha.owner
    assert entry.detail == {"lost_sale": open_sale.pk, "message": first.pk, "step": 1}
    sending.send_due()
    first.refresh_from_db()
    assert first.status == Message.Status.SENT
    assert [m.to for m in mail.outbox if m.to != [alpha.owner.email]] == [["camille@example.com"]]
    # Pressed again: the next step is brought forward.
    alpha_client.post(f"/app/alpha/lost-sales/{open_sale.pk}/send-now/")
    second.refresh_from_db()
    assert second.next_attempt_at <= timezone.now()
    assert audit(alpha.storefront, "lost_sale.recovery_email_sent_now").count() == 2


@pytest.mark.django_db
def test_send_now_during_quiet_hours_says_when_it_will_go(alpha_client, open_sale, alpha):
    quiet_hours(alpha.storefront, now_inside=True)
    response = alpha_client.post(f"/app/alpha/lost-sales/{open_sale.pk}/send-now/", follow=True)
    body = response.content.decode()
    assert "It is quiet hours for your buyers" in body
    first = recovery_emails(open_sale).order_by("send_at").first()
    assert first.next_attempt_at <= timezone.now()
    sending.send_due()
    first.refresh_from_db()
    assert [m.to for m in mail.outbox] == [[alpha.owner.email]]  # only the merchant's alert
    assert first.status == Message.Status.SCHEDULED
    assert first.next_attempt_at > timezone.now()  # deferred to the end of the quiet hours


@pytest.mark.django_db
def test_send_now_with_nothing_scheduled_says_so_and_changes_nothing(
    alpha_client, open_sale, alpha
):
    outbox.cancel(alpha.storefront, open_sale.group)
    response = alpha_client.post(f"/app/alpha/lost-sales/{open_sale.pk}/send-now/", follow=True)
    assert "No recovery email is scheduled for this sale" in response.content.decode()
    assert not audit(alpha.storefront, "lost_sale.recovery_email_sent_now").exists()
    assert not recovery_emails(open_sale).filter(status="scheduled").exists()


@pytest.mark.django_db
def test_send_now_for_a_settled_sale_is_refused(alpha_client, open_sale, alpha):
    LostSale.objects.for_storefront(alpha.storefront).filter(pk=open_sale.pk).update(
        status=LostSale.Status.RECOVERED
    )
    response = alpha_client.post(f"/app/alpha/lost-sales/{open_sale.pk}/send-now/", follow=True)
    assert "This sale is recovered: no recovery email is sent any more." in (
        response.content.decode()
    )
    assert all(m.next_attempt_at == m.send_at for m in recovery_emails(open_sale))
    assert not audit(alpha.storefront, "lost_sale.recovery_email_sent_now").exists()


@pytest.mark.django_db
def test_stop_the_sequence(alpha_client, open_sale, alpha):
    url = f"/app/alpha/lost-sales/{open_sale.pk}/stop/"
    response = alpha_client.post(url, follow=True)
    assert "4 scheduled emails stopped." in response.content.decode()
    group = Message.objects.for_storefront(alpha.storefront).filter(group=open_sale.group)
    assert set(group.values_list("status", flat=True)) == {Message.Status.CANCELLED}
    entry = audit(alpha.storefront, "lost_sale.sequence_stopped").get()
    assert entry.actor == alpha.owner
    assert entry.detail == {"lost_sale": open_sale.pk, "cancelled": 4}
    # Again: nothing left to stop, said so, and no second audit row.
    response = alpha_client.post(url, follow=True)
    assert "no email to stop" in response.content.decode()
    assert audit(alpha.storefront, "lost_sale.sequence_stopped").count() == 1


@pytest.mark.django_db
def test_mark_lost(alpha_client, open_sale, alpha):
    url = f"/app/alpha/lost-sales/{open_sale.pk}/mark-lost/"
    response = alpha_client.post(url, follow=True)
    assert "Marked lost" in response.content.decode()
    open_sale.refresh_from_db()
    assert open_sale.status == LostSale.Status.LOST
    lost_at = open_sale.lost_at
    assert not recovery_emails(open_sale).filter(status="scheduled").exists()
    entry = audit(alpha.storefront, "lost_sale.marked_lost").get()
    assert entry.actor == alpha.owner
    # Again: only an open sale can be marked lost; nothing changes.
    response = alpha_client.post(url, follow=True)
    assert "Only an open sale can be marked lost; this one is lost." in response.content.decode()
    open_sale.refresh_from_db()
    assert open_sale.lost_at == lost_at
    assert audit(alpha.storefront, "lost_sale.marked_lost").count() == 1


@pytest.mark.django_db
def test_mark_lost_leaves_a_recovered_sale_recovered(alpha_client, open_sale, alpha):
    ingest.apply_signal(
        storefront=alpha.storefront,
        signal=signal(SignalKind.SUCCEEDED, order_reference="ML-9", occurred_at=timezone.now()),
    )
    response = alpha_client.post(f"/app/alpha/lost-sales/{open_sale.pk}/mark-lost/", follow=True)
    assert "this one is recovered. Nothing changed." in response.content.decode()
    open_sale.refresh_from_db()
    assert open_sale.status == LostSale.Status.RECOVERED
    assert not audit(alpha.storefront, "lost_sale.marked_lost").exists()
