"""The buyer's tracking page from the cache: the second view renders nothing and costs the token's
one query; whatever changes what the page shows (carrier news, a correction, a flag, the
storefront's brand or identity, its language) shows on the next view; a revoked token is 404 at
once; no token ever gets another shipment's page."""

import logging
import re
import socket
from datetime import timedelta

import pytest
from django.test import Client

from storefront_settings.models import Storefront
from tests.tracking_helpers import T0, point, update
from tracking import page_cache
from tracking.models import Shipment
from tracking.services import ingest, links, shipments, watch
from tracking.statuses import ShipmentStatus as S

NONCE = re.compile(r'<style nonce="([^"]+)">')


def ship(storefront, number, **fields):
    values = {"order_reference": f"O-{number}", "buyer_email": f"{number.lower()}@example.com"}
    values.update(fields)
    return shipments.create_shipment(
        storefront, shipments.NewShipment(tracking_number=number, **values)
    )


def fresh(shipment) -> Shipment:
    return Shipment.objects.for_storefront(shipment.storefront).get(pk=shipment.pk)


def without_nonce(response) -> str:
    return NONCE.sub("<style>", response.content.decode())


@pytest.fixture
def buyer():
    """The buyer's browser: no session, no login."""
    return Client()


@pytest.fixture
def parcel(alpha):
    return ship(alpha.storefront, "6A12345678901", language="fr")


def view(buyer, shipment):
    return buyer.get(f"/t/{shipment.page_token}/")


def rendered(response) -> bool:
    return bool(response.templates)


@pytest.mark.django_db
def test_the_second_view_is_served_from_the_cache_with_the_same_headers(
    buyer, parcel, django_assert_num_queries
):
    ingest.apply_signal(
        storefront=parcel.storefront,
        signal=update(point(S.IN_TRANSIT, 1, "Arrivé sur le site de Lyon", "Lyon")),
    )
    # The token's version, then the shipment with its storefront, and its checkpoints.
    with django_assert_num_queries(3):
        first = view(buyer, parcel)
    with django_assert_num_queries(1):  # the token's version, nothing else
        second = view(buyer, parcel)
    assert first.status_code == second.status_code == 200
    assert rendered(first) and not rendered(second)
    assert without_nonce(second) == without_nonce(first)
    assert "Arrivé sur le site de Lyon" in second.content.decode()
    for name in ("Content-Type", "Cache-Control", "Referrer-Policy", "X-Robots-Tag"):
        assert second[name] == first[name], name
    # Never kept by the browser nor a proxy: the page shows an order and its parcel.
    assert second["Cache-Control"] == "private, no-store"
    # Each response carries its own nonce, in its header and in its page; the rest of the
    # policy is the same.
    policies, nonces = [], set()
    for response in (first, second):
        [nonce] = NONCE.findall(response.content.decode())
        policy = response["Content-Security-Policy"]
        assert f"'nonce-{nonce}'" in policy
        policies.append(policy.replace(nonce, "…"))
        nonces.add(nonce)
    assert len(nonces) == 2 and policies[0] == policies[1]


@pytest.mark.django_db
def test_the_release_lists_every_template_the_page_is_rendered_from(buyer, parcel):
    response = view(buyer, parcel)
    assert {t.name for t in response.templates} == set(page_cache.TEMPLATES)


@pytest.mark.django_db
def test_carrier_news_shows_on_the_next_view(buyer, parcel):
    assert "Arrivé à Lyon" not in view(buyer, parcel).content.decode()
    ingest.apply_signal(
        storefront=parcel.storefront, signal=update(point(S.IN_TRANSIT, 1, "Arrivé à Lyon"))
    )
    page = view(buyer, parcel)
    assert rendered(page) and "Arrivé à Lyon" in page.content.decode()
    assert "En transit" in page.content.decode()
    assert not rendered(view(buyer, parcel))
    # A checkpoint that arrives late (older than the newest) shows too, status unchanged.
    ingest.apply_signal(
        storefront=parcel.storefront,
        signal=update(point(S.INFO_RECEIVED, -5, "Pris en charge à Paris")),
    )
    page = view(buyer, parcel).content.decode()
    assert "Pris en charge à Paris" in page and "Arrivé à Lyon" in page
    ingest.apply_signal(
        storefront=parcel.storefront, signal=update(point(S.DELIVERED, 30, "Livré"))
    )
    page = view(buyer, parcel).content.decode()
    assert '<h1 class="status status-delivered">Livré</h1>' in page


@pytest.mark.django_db
def test_a_correction_shows_on_the_next_view(buyer, parcel):
    assert "mardi 1 décembre 2026" not in view(buyer, parcel).content.decode()
    shipments.correct_shipment(
        fresh(parcel), {"promised_delivery_date": T0.date() + timedelta(days=11)}
    )
    page = view(buyer, parcel)
    assert rendered(page) and "mardi 1 décembre 2026" in page.content.decode()


@pytest.mark.django_db
def test_the_watchers_flags_show_on_the_next_view(buyer, parcel):
    # The watchers set their flags with a raw UPDATE, which leaves updated_at alone.
    ingest.apply_signal(storefront=parcel.storefront, signal=update(point(S.IN_TRANSIT, 1)))
    before = view(buyer, parcel).content.decode()
    assert "pas donné de nouvelles" not in before
    assert watch.flag_stalled(now=T0 + timedelta(days=30)) == 1
    assert "pas donné de nouvelles" in view(buyer, parcel).content.decode()


@pytest.mark.django_db
def test_a_brand_or_identity_change_shows_on_the_next_view(buyer, alpha_client, alpha, parcel):
    assert "--brand: #1D2330" in view(buyer, parcel).content.decode()
    data = {
        "name": "Alpha",
        "shop_url": "",
        "logo_url": "",
        "brand_colour": "#AA0000",
        "accent_colour": "#2356D8",
        **{field: "" for field in Storefront.TRUST_FIELDS},
        "legal_name": "Alpha SAS",
    }
    assert alpha_client.post("/app/alpha/settings/brand/", data).status_code == 302
    page = view(buyer, parcel).content.decode()
    assert "--brand: #AA0000" in page and "Alpha SAS" in page
    # However the row changes: a queryset update moves no timestamp, and still shows.
    Storefront.objects.filter(pk=alpha.storefront.pk).update(support_phone="01 23 45 67 89")
    assert "01 23 45 67 89" in view(buyer, parcel).content.decode()


@pytest.mark.django_db
def test_a_revoked_token_is_404_at_once(buyer, alpha, parcel):
    old = parcel.page_token
    assert view(buyer, parcel).status_code == 200
    assert not rendered(view(buyer, parcel))  # cached
    links.revoke_page_link(shipment=fresh(parcel), actor=alpha.owner)
    assert buyer.get(f"/t/{old}/").status_code == 404
    new = view(buyer, fresh(parcel))
    assert new.status_code == 200 and "6A12345678901" in new.content.decode()


@pytest.mark.django_db
def test_an_old_signed_link_shares_the_page_until_revoked(buyer, alpha, parcel):
    from django.core import signing

    Shipment.objects.for_storefront(alpha.storefront).filter(pk=parcel.pk).update(
        signed_link_valid=True
    )
    payload = {"s": alpha.storefront.pk, "h": parcel.pk}
    signed = f"/t/{signing.dumps(payload, salt=links.SIGNED_PAGE_SALT)}/"
    assert rendered(buyer.get(signed))
    cached = buyer.get(signed)
    assert cached.status_code == 200 and not rendered(cached)
    links.revoke_page_link(shipment=fresh(parcel), actor=alpha.owner)
    assert buyer.get(signed).status_code == 404


@pytest.mark.django_db
def test_no_token_gets_another_shipments_page(buyer, two_storefronts, parcel):
    alpha, bravo = two_storefronts
    sibling = ship(alpha.storefront, "6A22222222222", language="fr")
    # Another storefront's shipment with the very same tracking number.
    twin = ship(bravo.storefront, "6A12345678901", language="fr")
    parcels = (parcel, sibling, twin)
    for _ in range(2):  # rendered, then from the cache
        for shipment in parcels:
            page = view(buyer, shipment).content.decode()
            assert shipment.order_reference in page and shipment.tracking_number in page
            others = {s.tracking_number for s in parcels} - {shipment.tracking_number}
            assert not any(number in page for number in others)
            assert shipment.storefront.name in page
            assert not any(
                s.storefront.name in page for s in parcels if s.storefront != shipment.storefront
            )
    keys = {page_cache.key(links.page_version(s.page_token)) for s in parcels}
    assert len(keys) == 3


@pytest.mark.django_db
def test_each_language_has_its_own_page(buyer, alpha, parcel):
    english = ship(alpha.storefront, "6A33333333333", language="en")
    for _ in range(2):
        assert '<html lang="fr">' in view(buyer, parcel).content.decode()
        assert '<html lang="en">' in view(buyer, english).content.decode()
    # The page follows the buyer's language, never the browser's: a cached French page is
    # what an English browser got before the cache too.
    page = buyer.get(f"/t/{parcel.page_token}/", HTTP_ACCEPT_LANGUAGE="en")
    assert not rendered(page) and "Commande O-6A12345678901" in page.content.decode()
    # The buyer's language corrected: the English page, rendered once, then from the cache.
    shipments.correct_shipment(fresh(parcel), {"language": "en"})
    page = view(buyer, parcel)
    assert rendered(page) and "Order O-6A12345678901" in page.content.decode()
    assert not rendered(view(buyer, parcel))
    # No language of its own: the storefront's, which the merchant may change.
    shipments.correct_shipment(fresh(parcel), {"language": ""})
    assert '<html lang="fr">' in view(buyer, parcel).content.decode()
    Storefront.objects.filter(pk=alpha.storefront.pk).update(language="en")
    assert '<html lang="en">' in view(buyer, parcel).content.decode()


@pytest.mark.django_db
def test_a_new_release_reads_no_page_rendered_before_it(buyer, parcel, monkeypatch):
    assert rendered(view(buyer, parcel))
    assert not rendered(view(buyer, parcel))
    monkeypatch.setattr(page_cache, "release", lambda: "the next deploy")
    assert rendered(view(buyer, parcel))


@pytest.mark.django_db
def test_the_page_is_rendered_each_time_while_the_cache_is_down(
    buyer, parcel, settings, caplog, monkeypatch
):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{closed}/0"}
    }
    monkeypatch.setattr(page_cache._Reachability, "down", False)
    with caplog.at_level(logging.WARNING, logger="tracking.page_cache"):
        pages = [view(buyer, parcel) for _ in range(3)]
    assert [p.status_code for p in pages] == [200, 200, 200]
    assert all(rendered(p) for p in pages)
    # Said once when it went, not on every page.
    assert [r.getMessage() for r in caplog.records] == [
        "tracking page: cache unreachable (ConnectionError)"
    ]
