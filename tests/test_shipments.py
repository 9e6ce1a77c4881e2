"""Shipments: the API in, carrier news applied in any order, milestone emails, the watchers,
the buyer's page and the lookup form."""

import itertools
import re
from datetime import date, timedelta

import pytest

from notifications.models import Message
from tests.tracking_helpers import T0, point, update
from tracking.models import Shipment
from tracking.services import ingest, links, shipments, watch
from tracking.statuses import ShipmentStatus as S

SHIPMENT = {
    "order_reference": "ML-10428",
    "buyer_email": "Camille@Example.com",
    "buyer_name": "Camille Martin",
    "language": "fr",
    "tracking_number": "6A 1234 5678 901",
    "promised_delivery_date": "2026-11-28",
    "items": [{"sku": "LUNE-01", "quantity": 1}],
}


def api(client, tenant, method, url, data=None, **params):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {tenant.raw_api_key}"}
    if method == "post":
        return client.post(url, data, content_type="application/json", **headers)
    return client.get(url, params, **headers)


@pytest.fixture
def shipment(client, alpha):
    response = api(client, alpha, "post", "/api/v1/shipments/", SHIPMENT)
    assert response.status_code == 201, response.json()
    return Shipment.objects.for_storefront(alpha.storefront).get(pk=response.json()["id"])


def emails(tenant, **filters):
    return Message.objects.for_storefront(tenant.storefront).filter(
        kind="shipment_update", **filters
    )


@pytest.mark.django_db
def test_creating_a_shipment_detects_the_carrier_and_sends_the_shipped_email(
    client, alpha, shipment
):
    assert shipment.tracking_number == "6A12345678901"
    assert (shipment.carrier, shipment.carrier_guessed) == ("colissimo", True)
    assert shipment.buyer_email == "camille@example.com"
    shipped = emails(alpha).get()
    assert shipped.template == "shipment_shipped"
    assert shipped.locale == "fr"
    assert shipped.context["tracking_number"] == "6A12345678901"
    assert shipped.context["tracking_url"].startswith("https://aftersale.test/t/")
    assert shipped.context["promised_delivery_date"] == "samedi 28 novembre 2026"


@pytest.mark.django_db
def test_the_same_shipment_twice_is_409_with_the_existing_id(client, alpha, shipment):
    again = api(client, alpha, "post", "/api/v1/shipments/", SHIPMENT)
    assert again.status_code == 409
    assert again.json()["id"] == shipment.pk
    assert emails(alpha).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        {"buyer_email": "nope"},
        {"tracking_number": ""},
        {"order_reference": ""},
        {"carrier": "pigeon"},
        {"promised_delivery_date": "next week"},
        {"language": "de"},
    ],
)
def test_bad_input_is_400_and_creates_nothing(client, alpha, change):
    response = api(client, alpha, "post", "/api/v1/shipments/", {**SHIPMENT, **change})
    assert response.status_code == 400
    assert set(change) <= set(response.json())
    assert not Shipment.unscoped.exists()


@pytest.mark.django_db
def test_the_detail_gives_status_checkpoints_and_the_buyers_link(client, alpha, shipment):
    ingest.apply_signal(
        storefront=alpha.storefront,
        signal=update(
            point(S.INFO_RECEIVED, 0),
            point(S.IN_TRANSIT, 5, location="Lyon"),
            estimated_delivery=date(2026, 11, 27),
        ),
    )
    body = api(client, alpha, "get", f"/api/v1/shipments/{shipment.pk}/").json()
    assert body["status"] == "in_transit"
    assert body["estimated_delivery_date"] == "2026-11-27"
    assert [c["status"] for c in body["checkpoints"]] == ["in_transit", "info_received"]
    assert body["checkpoints"][0]["location"] == "Lyon"
    assert body["stalled"] is False and body["late"] is False
    page = client.get(body["tracking_url"].removeprefix("https://aftersale.test"))
    assert page.status_code == 200
    assert "En transit" in page.content.decode()


@pytest.mark.django_db
def test_another_storefronts_shipment_is_404(client, two_storefronts, shipment):
    _, bravo = two_storefronts
    assert api(client, bravo, "get", f"/api/v1/shipments/{shipment.pk}/").status_code == 404
    assert api(client, bravo, "get", "/api/v1/shipments/").json()["count"] == 0


JOURNEY = [
    update(point(S.INFO_RECEIVED, 0)),
    update(point(S.INFO_RECEIVED, 0), point(S.IN_TRANSIT, 6)),
    update(point(S.IN_TRANSIT, 6), point(S.OUT_FOR_DELIVERY, 30)),
    update(point(S.FAILED_ATTEMPT, 34, description="Absent")),
    update(point(S.OUT_FOR_DELIVERY, 50), point(S.DELIVERED, 54)),
]


def outcome(tenant):
    shipment = Shipment.objects.for_storefront(tenant.storefront).get()
    timeline = list(shipment.checkpoints.order_by("occurred_at").values_list("status", flat=True))
    return shipment.status, shipment.status_at, tuple(timeline)


@pytest.mark.django_db
def test_duplicated_and_reordered_updates_end_in_the_same_state(client, alpha, shipment):
    results = set()
    for order in itertools.islice(itertools.permutations(JOURNEY), 0, 120, 7):
        shipment.checkpoints.all().delete()
        Shipment.objects.for_storefront(alpha.storefront).update(status=S.PENDING, status_at=None)
        for signal in [*order, *order]:
            ingest.apply_signal(storefront=alpha.storefront, signal=signal)
        results.add(outcome(alpha))
    assert len(results) == 1
    status, status_at, timeline = results.pop()
    assert status == "delivered" and status_at == T0 + timedelta(hours=54)
    assert timeline == (
        "info_received",
        "in_transit",
        "out_for_delivery",
        "failed_attempt",
        "out_for_delivery",
        "delivered",
    )


@pytest.mark.django_db
def test_an_older_update_arriving_late_never_moves_the_status_back(alpha, shipment):
    ingest.apply_signal(storefront=alpha.storefront, signal=update(point(S.DELIVERED, 50)))
    ingest.apply_signal(storefront=alpha.storefront, signal=update(point(S.IN_TRANSIT, 5)))
    assert outcome(alpha)[0] == "delivered"


@pytest.mark.django_db
def test_each_milestone_email_once_and_delivered_cancels_what_is_scheduled(alpha, shipment):
    for signal in [*JOURNEY, *JOURNEY]:
        ingest.apply_signal(storefront=alpha.storefront, signal=signal)
    templates = sorted(emails(alpha).values_list("template", flat=True))
    assert templates == [
        "shipment_delivered",
        "shipment_failed_attempt",
        "shipment_out_for_delivery",
        "shipment_shipped",
    ]
    assert not emails(alpha, status="scheduled").exclude(template="shipment_delivered").exists()


@pytest.mark.django_db
def test_the_policy_chooses_the_milestones(alpha, shipment):
    from storefront_settings.models import ShipmentPolicy

    policy = ShipmentPolicy.for_storefront(alpha.storefront)
    policy.milestones = ["delivered"]
    policy.save()
    for signal in JOURNEY:
        ingest.apply_signal(storefront=alpha.storefront, signal=signal)
    assert sorted(emails(alpha).values_list("template", flat=True)) == [
        "shipment_delivered",
        "shipment_shipped",
    ]


@pytest.mark.django_db
def test_an_unknown_tracking_number_is_reported(alpha):
    assert (
        ingest.apply_signal(
            storefront=alpha.storefront, signal=update(point(S.IN_TRANSIT), number="ZZ999")
        )
        is None
    )


@pytest.mark.django_db
def test_stalled_and_late_with_a_frozen_clock(alpha, shipment):
    ingest.apply_signal(storefront=alpha.storefront, signal=update(point(S.IN_TRANSIT, 0)))
    assert watch.flag_stalled(now=T0 + timedelta(days=2, hours=23)) == 0
    assert watch.flag_stalled(now=T0 + timedelta(days=3, minutes=1)) == 1
    assert watch.flag_stalled(now=T0 + timedelta(days=4)) == 0  # flagged once
    shipment.refresh_from_db()
    assert shipment.stalled
    assert emails(alpha, template="shipment_stalled").count() == 1
    # Carrier news clears the flag.
    ingest.apply_signal(storefront=alpha.storefront, signal=update(point(S.IN_TRANSIT, 80)))
    shipment.refresh_from_db()
    assert not shipment.stalled
    # Promised for the 28th: late from the 29th.
    from datetime import UTC, datetime

    assert watch.flag_late(now=datetime(2026, 11, 28, 23, 0, tzinfo=UTC)) == 0
    assert watch.flag_late(now=datetime(2026, 11, 29, 0, 1, tzinfo=UTC)) == 1
    shipment.refresh_from_db()
    assert shipment.late
    assert emails(alpha, template="shipment_delay").count() == 1
    stalled = api_filter(alpha, late="true")
    assert stalled == [shipment.pk]


def api_filter(tenant, **params):
    from django.test import Client

    return [
        s["id"]
        for s in api(Client(), tenant, "get", "/api/v1/shipments/", **params).json()["results"]
    ]


@pytest.mark.django_db
def test_a_delivered_parcel_is_neither_stalled_nor_late(alpha, shipment):
    ingest.apply_signal(storefront=alpha.storefront, signal=update(point(S.DELIVERED, 1)))
    assert watch.flag_stalled(now=T0 + timedelta(days=30)) == 0
    assert watch.flag_late(now=T0 + timedelta(days=30)) == 0


@pytest.mark.django_db
def test_page_tokens_altered_guessed_or_foreign_are_404(client, two_storefronts, shipment):
    token = shipment.page_token
    assert client.get(f"/t/{token}/").status_code == 200
    assert client.get(f"/t/{token[:-2]}xx/").status_code == 404
    assert client.get(f"/t/{shipment.pk}/").status_code == 404
    from django.core import signing

    # A signed link of the old kind naming another storefront, for a shipment whose old links
    # are still honoured.
    Shipment.objects.for_storefront(shipment.storefront).filter(pk=shipment.pk).update(
        signed_link_valid=True
    )
    _, bravo = two_storefronts
    salt = links.SIGNED_PAGE_SALT
    foreign = signing.dumps({"s": bravo.storefront.pk, "h": shipment.pk}, salt=salt)
    assert client.get(f"/t/{foreign}/").status_code == 404
    for junk in ({"s": "x", "h": shipment.pk}, {"h": shipment.pk}, [1, 2], "text"):
        assert client.get(f"/t/{signing.dumps(junk, salt=salt)}/").status_code == 404


@pytest.mark.django_db
def test_the_lookup_form_finds_the_parcel_and_answers_alike_when_it_does_not(
    client, alpha, shipment, fresh_cache
):
    url = f"/track/{alpha.storefront.slug}/"
    assert client.get(url).status_code == 200
    found = client.post(url, {"order_reference": "ML-10428", "email": "CAMILLE@example.com"})
    assert found.status_code == 302 and found.url.startswith("/t/")
    no_order = client.post(url, {"order_reference": "ML-1", "email": "camille@example.com"})
    wrong_email = client.post(url, {"order_reference": "ML-10428", "email": "eve@example.com"})
    assert no_order.status_code == wrong_email.status_code == 200

    def strip(response):
        # The page before the form, without the per-response CSP nonce.
        page = re.sub(r'nonce="[^"]*"', "", response.content.decode())
        return page.split("<form")[0]

    assert strip(no_order) == strip(wrong_email)
    assert "could not find" in strip(no_order) or "trouvé" in strip(no_order)


@pytest.mark.django_db
def test_the_lookup_form_is_rate_limited(client, alpha, shipment, fresh_cache, monkeypatch):
    from types import SimpleNamespace

    from django_ratelimit import core

    # A frozen clock for the limiter: its one-minute window must not end between the requests.
    monkeypatch.setattr(core, "time", SimpleNamespace(time=lambda: 1_800_000_000.0))
    url = f"/track/{alpha.storefront.slug}/"
    answers = [
        client.post(url, {"order_reference": f"X-{n}", "email": "eve@example.com"}).status_code
        for n in range(12)
    ]
    assert answers[:10] == [200] * 10
    assert answers[10:] == [429, 429]
    # Even the right answer waits.
    right = client.post(url, {"order_reference": "ML-10428", "email": "camille@example.com"})
    assert right.status_code == 429


@pytest.mark.django_db
def test_each_storefront_waits_its_own_number_of_days(client, alpha, shipment, make_tenant):
    from storefront_settings.models import ShipmentPolicy

    patient = ShipmentPolicy.for_storefront(alpha.storefront)
    patient.stalled_days = 5
    patient.save()
    quick = make_tenant("Quick", "whsec_quickquickquickquick")
    ShipmentPolicy.objects.for_storefront(quick.storefront).create(
        storefront=quick.storefront, stalled_days=1
    )
    shipments.create_shipment(
        quick.storefront,
        shipments.NewShipment(
            order_reference="Q-1", buyer_email="q@example.com", tracking_number="6A12345678901"
        ),
    )
    for tenant in (alpha, quick):
        ingest.apply_signal(storefront=tenant.storefront, signal=update(point(S.IN_TRANSIT, 0)))
    assert watch.flag_stalled(now=T0 + timedelta(days=1, minutes=1)) == 1  # Quick's
    assert watch.flag_stalled(now=T0 + timedelta(days=4)) == 0
    assert watch.flag_stalled(now=T0 + timedelta(days=5, minutes=1)) == 1  # Alpha's


@pytest.mark.django_db
def test_the_lookup_form_explains_bad_input_with_a_400(client, alpha, fresh_cache):
    response = client.post(
        f"/track/{alpha.storefront.slug}/", {"order_reference": "", "email": "not an email"}
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"order_reference", "email"}


@pytest.mark.django_db
def test_a_merchant_corrects_a_wrong_carrier_guess(client, alpha, shipment, two_storefronts):
    url = f"/api/v1/shipments/{shipment.pk}/"
    headers = {"HTTP_AUTHORIZATION": f"Bearer {alpha.raw_api_key}"}
    response = client.patch(
        url, {"carrier": "chronopost"}, content_type="application/json", **headers
    )
    assert response.status_code == 200
    assert response.json()["carrier"] == "chronopost"
    assert "chronopost.fr" in response.json()["carrier_tracking_url"]
    shipment.refresh_from_db()
    assert shipment.carrier_guessed is False
    for bad in ({"carrier": "pigeon"}, {"tracking_number": "X"}, {"status": "delivered"}):
        assert client.patch(url, bad, content_type="application/json", **headers).status_code == 400
    _, bravo = two_storefronts
    foreign = client.patch(
        url,
        {"carrier": "ups"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {bravo.raw_api_key}",
    )
    assert foreign.status_code == 404
    assert client.put(url, {}, content_type="application/json", **headers).status_code == 405
