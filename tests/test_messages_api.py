from datetime import UTC, datetime

import pytest

from notifications.services import sending

NOON_PARIS = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)


def get(client, tenant, url, **params):
    return client.get(url, params, HTTP_AUTHORIZATION=f"Bearer {tenant.raw_api_key}")


@pytest.fixture
def messages(two_storefronts, schedule_message):
    alpha, bravo = two_storefronts
    first = schedule_message(
        alpha.storefront, to="one@example.com", kind="payment_recovery", about=alpha.storefront
    )
    schedule_message(
        alpha.storefront,
        to="two@example.com",
        kind="shipment_update",
        send_at=NOON_PARIS.replace(year=2027),
    )
    sending.send_due(now=NOON_PARIS)
    theirs = schedule_message(bravo.storefront, to="three@example.com")
    return alpha, bravo, first, theirs


@pytest.mark.django_db
def test_list_shows_only_the_keys_storefront(client, messages):
    alpha, bravo, first, theirs = messages
    response = get(client, alpha, "/api/v1/messages/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert {m["to"] for m in body["results"]} == {"one@example.com", "two@example.com"}


@pytest.mark.django_db
def test_detail_of_another_storefronts_message_is_404(client, messages):
    alpha, bravo, first, theirs = messages
    assert get(client, alpha, f"/api/v1/messages/{theirs.pk}/").status_code == 404
    assert get(client, bravo, f"/api/v1/messages/{theirs.pk}/").status_code == 200
    assert get(client, alpha, "/api/v1/messages/999999/").status_code == 404


@pytest.mark.django_db
def test_detail_fields(client, messages):
    alpha, _, first, _ = messages
    body = get(client, alpha, f"/api/v1/messages/{first.pk}/").json()
    assert body["kind"] == "payment_recovery"
    assert body["template"] == "test_message"
    assert body["status"] == "sent"
    assert body["sent_at"] is not None
    assert body["about"] == {
        "type": "storefront_settings.storefront",
        "id": str(alpha.storefront.pk),
    }


@pytest.mark.django_db
def test_filters(client, messages):
    alpha = messages[0]
    assert get(client, alpha, "/api/v1/messages/", status="sent").json()["count"] == 1
    assert get(client, alpha, "/api/v1/messages/", kind="shipment_update").json()["count"] == 1
    assert get(client, alpha, "/api/v1/messages/", to="ONE@example.com").json()["count"] == 1
    bad = get(client, alpha, "/api/v1/messages/", status="lost")
    assert bad.status_code == 400
    assert "status" in bad.json()


@pytest.mark.django_db
def test_pagination(client, make_tenant, schedule_message):
    tenant = make_tenant("Alpha", "whsec_alphaalphaalphaalpha")
    for n in range(55):
        schedule_message(tenant.storefront, to=f"b{n}@example.com")
    first = get(client, tenant, "/api/v1/messages/").json()
    assert (first["count"], len(first["results"])) == (55, 50)
    assert first["next"].endswith("page=2")
    assert len(get(client, tenant, "/api/v1/messages/", page=2).json()["results"]) == 5


@pytest.mark.django_db
def test_messages_need_a_key(client, messages):
    assert client.get("/api/v1/messages/").status_code == 401


@pytest.mark.django_db
def test_the_list_query_count_does_not_grow_with_the_page(
    client, make_tenant, schedule_message, django_assert_max_num_queries
):
    tenant = make_tenant("Alpha", "whsec_alphaalphaalphaalpha")
    for n in range(30):
        schedule_message(tenant.storefront, to=f"b{n}@example.com", about=tenant.storefront)
    with django_assert_max_num_queries(5):
        assert get(client, tenant, "/api/v1/messages/").status_code == 200


@pytest.mark.django_db
def test_the_openapi_schema_describes_the_messages_endpoints(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/messages/" in paths
    assert "/api/v1/messages/{id}/" in paths
    parameters = {p["name"] for p in paths["/api/v1/messages/"]["get"]["parameters"]}
    assert {"kind", "status", "to", "page"} <= parameters
