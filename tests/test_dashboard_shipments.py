import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard.forms import shipments as shipment_forms
from notifications.models import Message
from storefront_settings.models import AuditLog, Membership
from tests.tracking_helpers import point, update
from tracking.models import Shipment
from tracking.services import ingest, links, shipments

CSV_ONE_BAD_ROW = (
    "order_reference,buyer_email,tracking_number,carrier\n"
    "ML-1,one@example.com,6A12345678901,\n"
    "ML-2,not-an-email,6A12345678902,\n"
    "ML-3,three@example.com,1Z999AA10123456784,ups\n"
)


def ship(storefront, number, **fields):
    values = {"order_reference": f"O-{number}", "buyer_email": f"{number.lower()}@example.com"}
    values.update(fields)
    return shipments.create_shipment(
        storefront, shipments.NewShipment(tracking_number=number, **values)
    )


def flag(shipment, **fields):
    Shipment.objects.for_storefront(shipment.storefront).filter(pk=shipment.pk).update(**fields)


def listed(response) -> list[str]:
    """The order references in the list's rows, in their order."""
    assert response.status_code == 200, response.content.decode()[:2000]
    return re.findall(r'/shipments/\d+/">([^<]+)</a>', response.content.decode())


def as_role(tenant, role):
    tenant.membership.role = role
    tenant.membership.save()


def upload(client, content: bytes, name="shipments.csv"):
    return client.post(
        "/app/alpha/shipments/import/", {"file": SimpleUploadedFile(name, content, "text/csv")}
    )


def shipments_of(tenant):
    return Shipment.objects.for_storefront(tenant.storefront)


@pytest.fixture
def tenants(client, two_storefronts):
    alpha, bravo = two_storefronts
    client.force_login(alpha.owner)
    return alpha, bravo


# --- The list -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_list_shows_this_storefronts_shipments_only(client, tenants):
    alpha, bravo = tenants
    ship(alpha.storefront, "6A12345678901", order_reference="A-1")
    ship(bravo.storefront, "6A12345678902", order_reference="B-1")
    response = client.get("/app/alpha/shipments/")
    assert listed(response) == ["A-1"]
    body = response.content.decode()
    assert "6A12345678901" in body and "La Poste / Colissimo" in body
    assert "Import a CSV" in body
    assert client.get("/app/bravo/shipments/").status_code == 404
    assert client.get("/app/nope/shipments/").status_code == 404


@pytest.mark.django_db
def test_the_overview_links_filter_by_status_stalled_and_late(client, tenants):
    alpha, _ = tenants
    sf = alpha.storefront
    moving = ship(sf, "6A12345678901", order_reference="moving")
    broken = ship(sf, "6A12345678902", order_reference="broken")
    stalled = ship(sf, "6A12345678903", order_reference="stalled")
    late = ship(sf, "6A12345678904", order_reference="late")
    ingest.apply_signal(
        storefront=sf, signal=update(point("in_transit"), number=moving.tracking_number)
    )
    ingest.apply_signal(
        storefront=sf, signal=update(point("exception"), number=broken.tracking_number)
    )
    flag(stalled, stalled_since=timezone.now())
    flag(late, late_since=timezone.now())
    url = "/app/alpha/shipments/"
    assert listed(client.get(url, {"status": "exception"})) == ["broken"]
    assert listed(client.get(url, {"status": "in_transit"})) == ["moving"]
    assert listed(client.get(url, {"stalled": "true"})) == ["stalled"]
    assert listed(client.get(url, {"late": "true"})) == ["late"]
    assert set(listed(client.get(url, {"late": "false"}))) == {"moving", "broken", "stalled"}
    assert listed(client.get(url, {"stalled": "true", "late": "true"})) == []
    assert listed(client.get(url, {"carrier": "ups"})) == []
    assert len(listed(client.get(url, {"carrier": "colissimo"}))) == 4


@pytest.mark.django_db
def test_the_overview_counts_match_the_lists_they_link_to(client, tenants):
    alpha, _ = tenants
    sf = alpha.storefront
    still_late = ship(sf, "6A12345678901", order_reference="still-late")
    delivered_late = ship(sf, "6A12345678902", order_reference="delivered-late")
    ingest.apply_signal(
        storefront=sf, signal=update(point("delivered"), number=delivered_late.tracking_number)
    )
    flag(still_late, late_since=timezone.now())
    flag(delivered_late, late_since=timezone.now())
    overview = client.get("/app/alpha/").content.decode()
    assert 'data-figure="late" data-value="1"' in overview
    # A parcel delivered late needs nothing more: the list the count links to leaves it out.
    assert listed(client.get("/app/alpha/shipments/", {"late": "true"})) == ["still-late"]
    assert "delivered-late" in listed(client.get("/app/alpha/shipments/", {"late": "false"}))


@pytest.mark.django_db
def test_the_period_and_dates_in_the_shops_time_zone(client, tenants):
    alpha, _ = tenants
    sf = alpha.storefront  # Europe/Paris
    now = timezone.now()
    ship(sf, "6A12345678901", order_reference="recent", shipped_at=now - timedelta(days=3))
    ship(sf, "6A12345678902", order_reference="older", shipped_at=now - timedelta(days=20))
    ship(sf, "6A12345678903", order_reference="old", shipped_at=now - timedelta(days=60))
    url = "/app/alpha/shipments/"
    assert listed(client.get(url, {"period": "7"})) == ["recent"]
    assert set(listed(client.get(url, {"period": "30"}))) == {"recent", "older"}
    assert len(listed(client.get(url, {"period": "90"}))) == 3
    # 23:30 UTC on 1 December is 00:30 on the 2nd in Paris: a shipment of the 2nd there.
    ship(
        sf,
        "6A12345678904",
        order_reference="edge",
        shipped_at=datetime(2026, 12, 1, 23, 30, tzinfo=UTC),
    )
    assert listed(client.get(url, {"from": "2026-12-02", "to": "2026-12-02"})) == ["edge"]
    assert listed(client.get(url, {"from": "2026-12-01", "to": "2026-12-01"})) == []
    assert listed(client.get(url, {"from": "2026-12-02"})) == ["edge"]
    assert "edge" not in listed(client.get(url, {"to": "2026-12-01"}))


@pytest.mark.django_db
def test_search_by_tracking_number_order_or_email(client, tenants):
    alpha, bravo = tenants
    ship(alpha.storefront, "6A12345678901", order_reference="ML-1", buyer_email="Anne@Example.com")
    ship(alpha.storefront, "6A12345678902", order_reference="ML-2", buyer_email="bob@example.com")
    ship(bravo.storefront, "6A12345678903", order_reference="ML-3", buyer_email="anne@example.com")
    url = "/app/alpha/shipments/"
    assert listed(client.get(url, {"q": "6a 1234-5678 901"})) == ["ML-1"]  # as pasted
    assert listed(client.get(url, {"q": " ML-2 "})) == ["ML-2"]
    assert listed(client.get(url, {"q": "ANNE@example.com"})) == ["ML-1"]
    assert listed(client.get(url, {"q": "ML-3"})) == []  # another storefront's order


@pytest.mark.django_db
def test_sorting_is_by_whitelisted_orders(client, tenants):
    alpha, _ = tenants
    sf = alpha.storefront
    ship(sf, "6A12345678901", order_reference="first", promised_delivery_date=date(2026, 12, 9))
    ship(sf, "6A12345678902", order_reference="second")
    ship(sf, "6A12345678903", order_reference="third", promised_delivery_date=date(2026, 12, 2))
    url = "/app/alpha/shipments/"
    assert listed(client.get(url)) == ["third", "second", "first"]  # newest first
    assert listed(client.get(url, {"sort": "created"})) == ["first", "second", "third"]
    assert listed(client.get(url, {"sort": "promised"})) == ["third", "first", "second"]
    assert listed(client.get(url, {"sort": "-promised"})) == ["first", "third", "second"]
    assert listed(client.get(url, {"sort": "-created"})) == ["third", "second", "first"]
    body = client.get(url, {"sort": "promised", "q": ""}).content.decode()
    # The column headers link to the other direction, keeping the filters.
    assert 'aria-sort="ascending"><a href="?sort=-promised&amp;q="' in body


@pytest.mark.django_db
def test_pages_keep_the_filters(client, tenants):
    alpha, _ = tenants
    for n in range(30):
        ship(alpha.storefront, f"6A1234567{n:04d}", order_reference=f"O-{n:02d}")
    ship(alpha.storefront, "1Z999AA10123456784", order_reference="ups")
    first = client.get("/app/alpha/shipments/", {"carrier": "colissimo", "q": ""})
    assert len(listed(first)) == 25
    body = first.content.decode()
    assert "30 shipments" in body and "Page 1 of 2" in body
    assert 'href="?carrier=colissimo&amp;q=&amp;page=2"' in body
    second = client.get("/app/alpha/shipments/", {"carrier": "colissimo", "q": "", "page": 2})
    assert len(listed(second)) == 5
    assert "ups" not in listed(second)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "explanation"),
    [
        ({"status": "lost_at_sea"}, "lost_at_sea is not one of the available choices"),
        ({"carrier": "pigeon"}, "pigeon is not one of the available choices"),
        ({"stalled": "maybe"}, "maybe is not one of the available choices"),
        ({"late": "1"}, "1 is not one of the available choices"),
        ({"period": "13"}, "13 is not one of the available choices"),
        ({"from": "yesterday"}, "Enter a valid date"),
        ({"from": "2026-12-09", "to": "2026-12-01"}, "The end date is before the start date"),
        ({"period": "7", "from": "2026-12-01"}, "Choose a period or dates, not both"),
        ({"sort": "buyer_email"}, "buyer_email is not one of the available choices"),
        ({"q": "x" * 201}, "at most 200 characters"),
    ],
)
def test_a_bad_filter_is_a_400_that_says_why(client, tenants, params, explanation):
    alpha, _ = tenants
    ship(alpha.storefront, "6A12345678901")
    response = client.get("/app/alpha/shipments/", params)
    assert response.status_code == 400
    body = response.content.decode()
    assert explanation in body
    assert "O-6A12345678901" not in body  # no rows it did not ask for


@pytest.mark.django_db
def test_the_list_costs_the_same_queries_for_5_or_40_shipments(client, tenants):
    alpha, _ = tenants
    for n in range(5):
        ship(alpha.storefront, f"6A1234567{n:04d}")
    url = "/app/alpha/shipments/?status=pending&sort=-updated"
    client.get(url)  # warm caches that a first request fills (content types, sessions)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for n in range(5, 40):
        ship(alpha.storefront, f"6A1234567{n:04d}")
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few) <= 8


# --- The detail ---------------------------------------------------------------------------------


@pytest.fixture
def travelled(tenants):
    """A shipment of alpha's with two scans (T0 = 20 Nov 09:00 UTC) and its emails."""
    alpha, bravo = tenants
    shipment = ship(
        alpha.storefront, "6A12345678901", order_reference="ML-1", buyer_name="Anne Martin"
    )
    ingest.apply_signal(
        storefront=alpha.storefront,
        signal=update(
            point("in_transit", 0, "Parcel handed to the carrier", "Roissy"),
            point("out_for_delivery", 26, "Out for delivery", "Lyon 3e"),
            number=shipment.tracking_number,
        ),
    )
    return alpha, bravo, shipment


@pytest.mark.django_db
def test_the_detail_shows_the_timeline_emails_and_the_buyers_link(client, travelled, settings):
    alpha, _, shipment = travelled
    response = client.get(f"/app/alpha/shipments/{shipment.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    # Newest first, in Paris time (UTC+1 in November), with the place.
    newest = body.index("21 Nov 2026 12:00")
    oldest = body.index("20 Nov 2026 10:00")
    assert newest < oldest
    assert "Lyon 3e" in body and "Roissy" in body
    # The buyer page, as an absolute URL built like the emails', that opens the page.
    page_url = re.search(r'value="([^"]+/t/[^"]+)"', body)[1]
    assert page_url == f"{settings.SITE_URL}/t/{shipment.page_token}/"
    assert f'href="{page_url}"' in body
    assert client.get(page_url.removeprefix(settings.SITE_URL)).status_code == 200
    # The carrier's own page, the buyer, and each email linked to its page.
    assert "https://www.laposte.fr/outils/suivre-vos-envois?code=6A12345678901" in body
    assert "Anne Martin" in body and "6a12345678901@example.com" in body
    emails = Message.objects.for_storefront(alpha.storefront).filter(about_id=str(shipment.pk))
    assert {m.template for m in emails} == {"shipment_shipped", "shipment_out_for_delivery"}
    for message in emails:
        assert f'href="/app/alpha/messages/{message.pk}/"' in body
    # In plain words, as in the emails log, not the template's name.
    assert "Shipment: on its way, with the tracking link" in body
    assert ">shipment_shipped<" not in body


@pytest.mark.django_db
def test_the_list_shows_the_last_scan_in_the_shops_time_zone_and_the_flags(client, travelled):
    alpha, _, shipment = travelled
    flag(shipment, late_since=timezone.now())
    body = client.get("/app/alpha/shipments/").content.decode()
    assert "Out for delivery" in body  # the newest scan's words
    assert 'datetime="2026-11-21T12:00:00+01:00"' in body  # 11:00 UTC, read in Paris
    assert '<span class="badge good">Out for delivery</span>' in body
    assert '<span class="badge bad">Late</span>' in body


@pytest.mark.django_db
def test_a_shipment_without_news_or_known_carrier(client, tenants):
    alpha, _ = tenants
    as_role(alpha, Membership.Role.VIEWER)  # viewers read every page
    shipment = ship(alpha.storefront, "ZZ998877", carrier="other")
    body = client.get(f"/app/alpha/shipments/{shipment.pk}/").content.decode()
    assert "The carrier has not scanned the parcel yet." in body
    assert "Unknown carrier: no tracking page." in body
    assert f'value="{links.tracking_page_url(shipment)}"' in body
    # A viewer sees the link but not the button that revokes it.
    assert "revoke-link" not in body
    assert "No scan yet" in client.get("/app/alpha/shipments/").content.decode()


@pytest.mark.django_db
def test_the_detail_is_404_for_another_storefronts_shipment(client, travelled):
    alpha, bravo, mine = travelled
    theirs = ship(bravo.storefront, "6A12345678909")
    assert client.get(f"/app/alpha/shipments/{theirs.pk}/").status_code == 404
    assert client.get(f"/app/bravo/shipments/{theirs.pk}/").status_code == 404
    assert client.get(f"/app/bravo/shipments/{mine.pk}/").status_code == 404
    assert client.get("/app/alpha/shipments/999999/").status_code == 404


# --- The CSV upload -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_upload_imports_the_good_rows_and_names_the_bad_one(client, tenants):
    alpha, _ = tenants
    response = upload(client, CSV_ONE_BAD_ROW.encode())
    assert response.status_code == 200
    report = response.context["report"]
    assert (report.created, report.existing) == (2, 0)
    assert report.errors == [(3, "buyer_email: Enter a valid email address.")]
    assert "Import report for shipments.csv" in response.content.decode()
    body = response.content.decode()
    assert "<td>3</td><td>buyer_email: Enter a valid email address.</td>" in body
    numbers = set(shipments_of(alpha).values_list("tracking_number", flat=True))
    assert numbers == {"6A12345678901", "1Z999AA10123456784"}  # the refused row is not written
    assert not shipments_of(alpha).filter(order_reference="ML-2").exists()
    audit = AuditLog.objects.for_storefront(alpha.storefront).get(action="shipments.imported")
    assert audit.actor == alpha.owner
    assert audit.detail == {
        "filename": "shipments.csv",
        "created": 2,
        "existing": 0,
        "refused": 1,
    }
    # The same file again creates nothing twice.
    again = upload(client, CSV_ONE_BAD_ROW.encode()).context["report"]
    assert (again.created, again.existing, len(again.errors)) == (0, 2, 1)
    assert shipments_of(alpha).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "explanation"),
    [
        (
            "order_reference,buyer_email,tracking_number\nCommandé,é@example.com,6A1\n".encode(
                "latin-1"
            ),
            "This file is not UTF-8 text",
        ),
        (b"PK\x03\x04\x14\x00\x00\x00binary", "it holds binary data"),
        ("order_reference,buyer_email\n".encode("utf-16"), "This file is not UTF-8 text"),
        (b"order_reference,buyer_email,tracking_number\n\x00\x00\n", "it holds binary data"),
        (b'{"orders": [1, 2]}', "the header row lacks order_reference, buyer_email"),
        (b"order_reference,buyer_email,tracking_number\n", "has a header row but no shipment"),
        (b"", "The submitted file is empty"),
    ],
)
def test_a_file_that_is_not_a_utf8_csv_is_refused_clearly(client, tenants, content, explanation):
    alpha, _ = tenants
    response = upload(client, content)
    assert response.status_code == 400
    assert explanation in response.content.decode()
    assert not shipments_of(alpha).exists()
    assert (
        not AuditLog.objects.for_storefront(alpha.storefront)
        .filter(action="shipments.imported")
        .exists()
    )


@pytest.mark.django_db
def test_a_file_over_5_mb_is_refused_and_nothing_written(client, tenants):
    alpha, _ = tenants
    padding = "x" * 100
    line = f"ML-1,one@example.com,6A12345678901,{padding}\n"
    content = ("order_reference,buyer_email,tracking_number,note\n" + line * 52_000).encode()
    assert len(content) > 5 * 1024 * 1024
    response = upload(client, content)
    assert response.status_code == 400
    assert "the limit is 5 MB" in response.content.decode()
    assert not shipments_of(alpha).exists()


@pytest.mark.django_db
def test_a_file_with_too_many_rows_is_refused(client, tenants, monkeypatch):
    alpha, _ = tenants
    monkeypatch.setattr(shipment_forms, "MAX_UPLOAD_ROWS", 2)
    response = upload(client, CSV_ONE_BAD_ROW.encode())
    assert response.status_code == 400
    assert "This file has 3 rows; the limit is 2 per upload" in response.content.decode()
    assert not shipments_of(alpha).exists()


@pytest.mark.django_db
def test_the_sample_file_imports_cleanly(client, tenants):
    alpha, _ = tenants
    sample = client.get("/app/alpha/shipments/import/sample.csv")
    assert sample.status_code == 200
    assert sample["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in sample["Content-Disposition"]
    report = upload(client, sample.content).context["report"]
    assert (report.created, report.errors) == (2, [])
    assert shipments_of(alpha).get(order_reference="1002").carrier == "ups"  # guessed


@pytest.mark.django_db
def test_the_page_explains_the_columns_and_links_the_sample(client, tenants):
    response = client.get("/app/alpha/shipments/import/")
    assert response.status_code == 200
    body = response.content.decode()
    for column in ("order_reference", "buyer_email", "tracking_number", "promised_delivery_date"):
        assert f"<code>{column}</code>" in body
    assert 'href="/app/alpha/shipments/import/sample.csv"' in body
    assert 'enctype="multipart/form-data"' in body and "csrfmiddlewaretoken" in body


@pytest.mark.django_db
def test_a_viewer_sees_the_page_read_only_and_cannot_upload(client, tenants):
    alpha, _ = tenants
    as_role(alpha, Membership.Role.VIEWER)
    page = client.get("/app/alpha/shipments/import/")
    assert page.status_code == 200
    assert 'type="file"' not in page.content.decode()
    assert "Import a CSV" not in client.get("/app/alpha/shipments/").content.decode()
    assert upload(client, CSV_ONE_BAD_ROW.encode()).status_code == 403
    assert not shipments_of(alpha).exists()
    assert (
        not AuditLog.objects.for_storefront(alpha.storefront)
        .filter(action="shipments.imported")
        .exists()
    )
    as_role(alpha, Membership.Role.STAFF)
    assert upload(client, CSV_ONE_BAD_ROW.encode()).status_code == 200
    assert shipments_of(alpha).count() == 2


@pytest.mark.django_db
def test_another_storefronts_import_pages_are_404(client, tenants):
    _, bravo = tenants
    assert client.get("/app/bravo/shipments/import/").status_code == 404
    assert client.get("/app/bravo/shipments/import/sample.csv").status_code == 404
    response = client.post(
        "/app/bravo/shipments/import/",
        {"file": SimpleUploadedFile("s.csv", CSV_ONE_BAD_ROW.encode(), "text/csv")},
    )
    assert response.status_code == 404
    assert not shipments_of(bravo).exists()


@pytest.mark.django_db
def test_pages_need_a_login(client, two_storefronts):
    for url in ("/app/alpha/shipments/", "/app/alpha/shipments/import/"):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]
