from datetime import timedelta

import pytest

from payments.services import ingest
from payments.signals import SignalKind
from tests.payments_helpers import T0, signal


@pytest.fixture
def sales(two_storefronts):
    alpha, bravo = two_storefronts
    ingest.apply_signal(storefront=alpha.storefront, signal=signal())
    ingest.apply_signal(
        storefront=alpha.storefront,
        signal=signal(
            minutes=60 * 24 * 2,
            order_reference="ML-2",
            payment_id="pi_2",
            amount=1500,
            codes={"code": "expired_card"},
        ),
    )
    ingest.apply_signal(
        storefront=alpha.storefront,
        signal=signal(SignalKind.SUCCEEDED, minutes=90, payment_id="pi_2", codes={}),
    )
    ingest.apply_signal(storefront=bravo.storefront, signal=signal(order_reference="B-1"))
    return alpha, bravo


def get(client, tenant, url, **params):
    return client.get(url, params, HTTP_AUTHORIZATION=f"Bearer {tenant.raw_api_key}")


@pytest.mark.django_db
def test_the_list_shows_the_keys_storefront_only_with_its_messages(
    client, sales, django_assert_max_num_queries
):
    alpha, _ = sales
    with django_assert_max_num_queries(6):
        body = get(client, alpha, "/api/v1/lost-sales/").json()
    assert body["count"] == 2
    first = next(s for s in body["results"] if s["order_reference"] == "ML-1")
    assert first["reason"] == "insufficient_funds"
    assert first["amount"] == 8900 and first["currency"] == "EUR"
    assert first["codes"] == {"code": "card_declined", "decline_code": "insufficient_funds"}
    assert [m["kind"] for m in first["messages"]].count("payment_recovery") == 3
    assert first["status"] == "open"


@pytest.mark.django_db
def test_filters(client, sales):
    alpha, _ = sales
    assert get(client, alpha, "/api/v1/lost-sales/", status="recovered").json()["count"] == 1
    assert get(client, alpha, "/api/v1/lost-sales/", reason="card_expired").json()["count"] == 1
    assert get(client, alpha, "/api/v1/lost-sales/", min_amount=5000).json()["count"] == 1
    after = (T0 + timedelta(days=1)).isoformat()
    assert get(client, alpha, "/api/v1/lost-sales/", failed_after=after).json()["count"] == 1
    for bad in ({"reason": "bad_luck"}, {"min_amount": "-1"}, {"failed_after": "yesterday"}):
        assert get(client, alpha, "/api/v1/lost-sales/", **bad).status_code == 400


@pytest.mark.django_db
def test_another_storefronts_sale_is_404(client, sales):
    alpha, bravo = sales
    theirs = get(client, bravo, "/api/v1/lost-sales/").json()["results"][0]["id"]
    assert get(client, alpha, f"/api/v1/lost-sales/{theirs}/").status_code == 404
    response = client.post(
        f"/api/v1/lost-sales/{theirs}/mark-lost/", HTTP_AUTHORIZATION=f"Bearer {alpha.raw_api_key}"
    )
    assert response.status_code == 404
    assert get(client, bravo, f"/api/v1/lost-sales/{theirs}/").json()["status"] == "open"


@pytest.mark.django_db
def test_mark_lost(client, sales):
    alpha, _ = sales
    open_sale = get(client, alpha, "/api/v1/lost-sales/", status="open").json()["results"][0]
    url = f"/api/v1/lost-sales/{open_sale['id']}/mark-lost/"
    auth = {"HTTP_AUTHORIZATION": f"Bearer {alpha.raw_api_key}"}
    response = client.post(url, **auth)
    assert response.status_code == 200
    assert response.json()["status"] == "lost"
    assert {m["status"] for m in response.json()["messages"]} == {"cancelled"}
    again = client.post(url, **auth)
    assert again.status_code == 409
    assert "open" in again.json()["detail"]
