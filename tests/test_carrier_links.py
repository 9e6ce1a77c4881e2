"""Carrier links from tracking sources: only http(s) addresses are kept; a javascript: or data:
URL is dropped by the EasyPost and AfterShip adapters (refused by the generic one), so it never
reaches a buyer's email, the buyer's page or the dashboard."""

import json
import time

import pytest

from notifications.models import Message
from tests.test_tracking_providers import aftership_sign, easypost_sign, generic_headers, load
from tests.test_tracking_webhooks import events, make_shipment, post, process_all, shop  # noqa: F401
from tracking.providers import web_url
from tracking.providers.aftership import webhooks as aftership
from tracking.providers.easypost import webhooks as easypost
from tracking.providers.generic import webhooks as generic

HOSTILE = [
    "javascript:alert(document.domain)",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "\x01javascript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "//evil.example/track",
    "https://",
    "http:evil.example",
    "https://carrier.example/\r\nSet-Cookie: x=1",
    "https://carrier.example/" + "a" * 1000,
]


@pytest.mark.parametrize("url", HOSTILE)
def test_web_url_drops_anything_but_an_http_address(url):
    assert web_url(url) == ""


@pytest.mark.parametrize(
    "url",
    [
        "https://www.laposte.fr/outils/suivre-vos-envois?code=6A12345678901",
        "HTTP://Carrier.Example/track?id=1",
        "  https://track.easypost.com/djE6  ",
    ],
)
def test_web_url_keeps_an_http_address(url):
    assert web_url(url) == url.strip()


def easypost_event(url: str) -> dict:
    event = load("easypost", "tracker.updated.json")
    event["result"]["public_url"] = url
    return event


def aftership_event(url: str) -> dict:
    event = load("aftership", "tracking_update.delivered.json")
    event["msg"]["courier_tracking_link"] = url
    return event


@pytest.mark.parametrize("url", HOSTILE)
def test_easypost_drops_a_hostile_public_url(url):
    assert easypost.parse(easypost_event(url)).carrier_tracking_url == ""


@pytest.mark.parametrize("url", HOSTILE)
def test_aftership_drops_a_hostile_courier_tracking_link(url):
    assert aftership.parse(aftership_event(url)).carrier_tracking_url == ""


@pytest.mark.parametrize("url", HOSTILE)
def test_generic_refuses_a_hostile_carrier_tracking_url(url):
    event = load("generic", "shipment.updated.json")
    event["data"]["carrier_tracking_url"] = url
    # verify refuses it (the webhook answers 400, below); parse, given it anyway, reads nothing.
    assert generic.parse(event) is None


def test_the_adapters_keep_a_good_link():
    good = "https://carrier.example/track?id=6A1"
    assert easypost.parse(easypost_event(good)).carrier_tracking_url == good
    assert aftership.parse(aftership_event(good)).carrier_tracking_url == good


def assert_nowhere(client, tenant, shipment, needle="javascript:"):
    """The hostile link is in none of the places a buyer or the merchant follows it."""
    shipment.refresh_from_db()
    assert needle not in shipment.carrier_tracking_url.lower()
    assert shipment.carrier_tracking_url.startswith("https://")
    client.force_login(tenant.owner)
    dashboard = client.get(f"/app/aurora/shipments/{shipment.pk}/").content.decode()
    assert needle not in dashboard.lower()
    page = client.get(f"/t/{shipment.page_token}/").content.decode()
    assert needle not in page.lower()
    for message in Message.objects.for_storefront(tenant.storefront):
        assert needle not in json.dumps(message.context).lower()


@pytest.mark.django_db
def test_a_javascript_link_from_easypost_is_not_stored(client, shop):  # noqa: F811
    shipment = make_shipment(shop, "9400111206213859123456", "usps")
    body = json.dumps(easypost_event("javascript:alert(document.cookie)")).encode()
    response = post(client, shop, "easypost", body, HTTP_X_HMAC_SIGNATURE=easypost_sign(body))
    assert response.status_code == 200
    assert process_all(shop) == ["processed"]
    shipment.refresh_from_db()
    assert shipment.status == "delivered"  # the rest of the news is applied
    assert_nowhere(client, shop, shipment)


@pytest.mark.django_db
def test_a_javascript_link_from_aftership_is_not_stored(client, shop):  # noqa: F811
    shipment = make_shipment(shop, "6A25098765432")
    body = json.dumps(aftership_event("javascript:alert(document.cookie)")).encode()
    response = post(
        client, shop, "aftership", body, HTTP_AFTERSHIP_HMAC_SHA256=aftership_sign(body)
    )
    assert response.status_code == 200
    assert process_all(shop) == ["processed"]
    shipment.refresh_from_db()
    assert shipment.status == "delivered"
    assert_nowhere(client, shop, shipment)


@pytest.mark.django_db
def test_a_javascript_link_from_a_generic_source_is_refused(client, shop):  # noqa: F811
    shipment = make_shipment(shop, "MR0045821937", "mondial_relay")
    event = load("generic", "shipment.updated.json")
    event["data"]["carrier_tracking_url"] = "javascript:alert(1)"
    body = json.dumps(event).encode()
    headers = generic_headers(body, msg_id=event["id"], timestamp=int(time.time()))
    response = post(
        client,
        shop,
        "generic",
        body,
        **{
            f"HTTP_{name.upper().replace('-', '_')}": value
            for name, value in headers.items()
            if name != "content-type"
        },
    )
    assert response.status_code == 400
    assert b"carrier_tracking_url is not an http(s) URL" in response.content
    assert not events(shop).exists()
    assert_nowhere(client, shop, shipment)
