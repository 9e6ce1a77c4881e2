"""The API's documentation: /api/docs/ (Swagger UI from our own static files, under the
site's CSP), and a schema that validates, describes every operation and shows real examples."""

import re

import pytest
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

from api.lost_sales import LOST_SALE, MARKED_LOST, PAID_WITH_ANOTHER_ORDER, RECOVERED_SALE
from api.messages import MESSAGE
from api.shipments import SHIPMENT, SHIPMENT_CORRECTED, SHIPMENT_IN_TRANSIT
from api.storefront import STOREFRONT
from payments.services import ingest
from tests.payments_helpers import signal

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", path, method, operation


def examples_of(content: dict) -> list:
    return [shown for media in content.values() for shown in media.get("examples", {}).values()]


@pytest.fixture
def served_static(settings):
    # Production serves collectstatic's output; the tests have none, so WhiteNoise serves
    # straight from the apps' static folders (read when the test client's middleware loads).
    settings.WHITENOISE_USE_FINDERS = True


@pytest.mark.django_db
def test_the_docs_page_loads_swagger_ui_from_our_own_static_files(client, served_static):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    policy = response.headers["Content-Security-Policy"]
    # The site's policy, unchanged: no CDN, no inline script, no eval.
    assert "script-src 'self';" in policy + ";"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    # The one inline style carries this response's nonce; no script is inline.
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert re.findall(r"<style([^>]*)>", page) == [f' nonce="{nonce}"']
    assert all("src=" in attrs for attrs in re.findall(r"<script([^>]*)>", page))

    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert {a.rsplit("/", 1)[-1] for a in assets} >= {
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "favicon-32x32.png",
    }
    for asset in assets:
        assert asset.startswith("/"), f"{asset} is not ours"
        fetched = client.get(asset.replace("&amp;", "&"))
        assert fetched.status_code == 200, asset
        body = b"".join(fetched) if fetched.streaming else fetched.content
        assert len(body) > 100, asset

    # Swagger UI's start-up script, served by the same view, points it at our schema.
    script = client.get("/api/docs/?script=")
    assert script.headers["Content-Type"].startswith("application/javascript")
    assert '"/api/schema/"' in script.content.decode()
    assert "SwaggerUIBundle(" in script.content.decode()


@pytest.mark.django_db
def test_the_schema_validates_without_a_warning(tmp_path):
    GENERATOR_STATS.reset()  # warnings are counted process-wide
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert text.startswith("openapi: 3")
    assert "title: Aftersale API" in text


@pytest.mark.django_db
def test_the_schema_is_served_as_yaml_and_json(client):
    assert client.get("/api/schema/").content.startswith(b"openapi: 3")
    as_json = client.get("/api/schema/", {"format": "json"}).json()
    assert as_json["info"]["title"] == "Aftersale API"
    assert "Authorization: Bearer as_" in as_json["info"]["description"]
    assert as_json["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"


def test_every_operation_has_a_summary_a_description_examples_and_its_errors(schema):
    found = list(operations(schema))
    names = {name for name, *_ in found}
    assert names >= {
        "GET /api/v1/storefront/",
        "GET /api/v1/messages/",
        "GET /api/v1/messages/{id}/",
        "GET /api/v1/lost-sales/",
        "GET /api/v1/lost-sales/{id}/",
        "POST /api/v1/lost-sales/{id}/mark-lost/",
        "GET /api/v1/shipments/",
        "POST /api/v1/shipments/",
        "GET /api/v1/shipments/{id}/",
        "PATCH /api/v1/shipments/{id}/",
    }
    for name, path, method, operation in found:
        assert operation.get("summary"), name
        assert len(operation.get("description", "")) > 60, name
        # Not a class docstring meant for the house.
        assert "queryset" not in operation["description"], name
        assert operation.get("tags") and operation["tags"] != ["v1"], name
        responses = operation["responses"]
        # Every answer says what it means and shows what it looks like.
        for code, response in responses.items():
            assert response.get("description"), f"{name} {code}"
            assert examples_of(response.get("content", {})), f"{name} {code} has no example"
        expected = {"401"}
        if "{id}" in path:
            expected.add("404")
        if method == "get" and "{id}" not in path and path != "/api/v1/storefront/":
            expected.add("400")  # a bad filter
        if method in {"post", "patch"} and "mark-lost" not in path:
            expected.update({"400", "409"})
        if "mark-lost" in path:
            expected.add("409")
        assert expected <= set(responses), f"{name}: {sorted(expected - set(responses))}"
        assert any(code.startswith("2") for code in responses), name
        if operation.get("requestBody"):
            assert examples_of(operation["requestBody"]["content"]), f"{name}: no request example"


def test_list_examples_show_a_page_of_just_the_example(schema):
    listed = schema["paths"]["/api/v1/lost-sales/"]["get"]["responses"]["200"]["content"]
    page = examples_of(listed)[0]["value"]
    assert page == {"count": 1, "next": None, "previous": None, "results": [LOST_SALE]}


# The examples are the API's real answers: the same fields, and request bodies it accepts.


def auth(tenant):
    return {"HTTP_AUTHORIZATION": f"Bearer {tenant.raw_api_key}"}


def request_examples(schema, path, method):
    body = schema["paths"][path][method]["requestBody"]["content"]
    return [shown["value"] for shown in body["application/json"]["examples"].values()]


@pytest.mark.django_db
def test_the_examples_have_the_fields_of_real_answers(client, two_storefronts, schema):
    alpha, _ = two_storefronts
    ingest.apply_signal(storefront=alpha.storefront, signal=signal())
    headers = auth(alpha)

    storefront = client.get("/api/v1/storefront/", **headers).json()
    sale = client.get("/api/v1/lost-sales/", **headers).json()["results"][0]
    message = client.get("/api/v1/messages/", **headers).json()["results"][0]
    shipments = [
        client.post("/api/v1/shipments/", body, content_type="application/json", **headers)
        for body in request_examples(schema, "/api/v1/shipments/", "post")
    ]
    assert [r.status_code for r in shipments] == [201, 201]
    shipment = shipments[0].json()

    assert set(STOREFRONT) == set(storefront)
    for example in (LOST_SALE, RECOVERED_SALE, PAID_WITH_ANOTHER_ORDER, MARKED_LOST):
        assert set(example) == set(sale)
        assert set(example["messages"][0]) == set(sale["messages"][0])
    assert set(MESSAGE) == set(message)
    for example in (SHIPMENT, SHIPMENT_IN_TRANSIT, SHIPMENT_CORRECTED):
        assert set(example) == set(shipment)
    assert shipment["carrier"] == SHIPMENT["carrier"]  # the guess the example shows

    url = f"/api/v1/shipments/{shipment['id']}/"
    for body in request_examples(schema, "/api/v1/shipments/{id}/", "patch"):
        patched = client.patch(url, body, content_type="application/json", **headers)
        assert patched.status_code == 200, patched.json()


@pytest.mark.django_db
def test_the_error_examples_are_the_words_the_api_answers(client, two_storefronts, schema):
    alpha, _ = two_storefronts

    def shown(path, method, code):
        content = schema["paths"][path][method]["responses"][code]["content"]
        return [example["value"] for example in examples_of(content)]

    no_key = client.get("/api/v1/storefront/")
    wrong_key = client.get("/api/v1/storefront/", HTTP_AUTHORIZATION="Bearer as_wrong")
    assert no_key.status_code == wrong_key.status_code == 401
    assert no_key.headers["WWW-Authenticate"] == "Bearer"
    assert shown("/api/v1/storefront/", "get", "401") == [no_key.json(), wrong_key.json()]

    missing = client.get("/api/v1/shipments/999999/", **auth(alpha))
    assert shown("/api/v1/shipments/{id}/", "get", "404") == [missing.json()]

    bad = client.get("/api/v1/shipments/", {"status": "lost"}, **auth(alpha))
    assert shown("/api/v1/shipments/", "get", "400") == [bad.json()]


@pytest.mark.django_db
def test_the_dashboard_links_to_the_docs(client, two_storefronts):
    client.force_login(two_storefronts[0].owner)
    assert 'href="/api/docs/"' in client.get("/app/", follow=True).content.decode()
