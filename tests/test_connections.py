"""The registry of connections (storefront_settings.connections): a connection is one package
and one line in settings.CONNECTIONS. tests/connections/relay is such a package; registering it
gives it a webhook URL, a secret format, a section of the connections page with a working test
event, a line in create_storefront's output and a worker that processes its events, with no
other change anywhere."""

import json
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management import call_command

from inbound import services as inbound
from inbound.models import InboundEvent
from inbound.tasks import process_inbound_event
from storefront_settings import connections
from storefront_settings.services.credentials import add_provider_secret
from tests.connections import relay

SECRET = "relay_0123456789abcdef"


@pytest.fixture
def with_relay(settings):
    settings.CONNECTIONS = [*django_settings.CONNECTIONS, "tests.connections.relay"]
    return relay.CONNECTION


def post(client, storefront, payload: dict, secret: str = SECRET):
    body = json.dumps(payload).encode()
    return client.post(
        f"/webhooks/relay/{storefront.public_id}/",
        data=body,
        content_type="application/json",
        headers=relay.sign(body, secret),
    )


def test_an_unregistered_connection_has_no_url_and_no_secrets(client, alpha):
    assert connections.find("relay") is None
    assert post(client, alpha.storefront, {"id": "1", "type": "parcel.moved"}).status_code == 404
    with pytest.raises(ValidationError, match="unknown provider 'relay'"):
        add_provider_secret(storefront=alpha.storefront, provider="relay", secret=SECRET)


def test_one_settings_line_makes_a_working_connection(client, alpha, bravo, with_relay):
    with pytest.raises(ValidationError, match="expected 'relay_' and a key"):
        add_provider_secret(storefront=alpha.storefront, provider="relay", secret="whsec_nope")
    add_provider_secret(storefront=alpha.storefront, provider="relay", secret=SECRET)

    answer = post(client, alpha.storefront, {"id": "evt-1", "type": "parcel.moved"})
    assert answer.status_code == 200 and answer.json() == {"received": True, "duplicate": False}
    # Another tenant's endpoint does not take alpha's secret; a forged signature is refused.
    assert (
        post(client, bravo.storefront, {"id": "evt-2", "type": "parcel.moved"}).status_code == 400
    )
    forged = post(client, alpha.storefront, {"id": "evt-3", "type": "parcel.moved"}, "relay_x")
    assert forged.status_code == 400

    event = InboundEvent.objects.for_storefront(alpha.storefront).get()
    assert (event.provider, event.event_id, event.get_provider_display()) == (
        "relay",
        "evt-1",
        "Relay",
    )
    # The dispatcher sends the stored row to the one processing task, which asks the adapter.
    assert process_inbound_event(event.pk, "relay") == "processed"
    event.refresh_from_db()
    assert event.status == InboundEvent.Status.PROCESSED
    assert not InboundEvent.objects.for_storefront(bravo.storefront).exists()


def test_the_connections_page_and_create_storefront_list_it(client, alpha, with_relay, settings):
    client.force_login(alpha.owner)
    page = client.get("/app/alpha/settings/providers/").content.decode()
    assert "Relay" in page and "Paste this URL in Relay." in page
    assert f"/webhooks/relay/{alpha.storefront.public_id}/" in page

    out = StringIO()
    call_command(
        "create_storefront",
        "--name",
        "Relay shop",
        "--owner-email",
        "r@example.com",
        "--json",
        stdout=out,
    )
    created = json.loads(out.getvalue())
    assert created["webhook_urls"]["relay"] == f"/webhooks/relay/{created['id']}/"


def test_a_stored_event_of_a_connection_no_longer_configured_fails_for_ops(alpha):
    stored = inbound.store(
        storefront=alpha.storefront,
        provider="retired",
        event_id="evt-old",
        event_type="x",
        body="{}",
        headers={},
    )
    with pytest.raises(LookupError, match="no connection called 'retired'"):
        process_inbound_event.run(stored.pk, "retired")
    stored.refresh_from_db()
    assert stored.attempts == 1 and "no connection called 'retired'" in stored.last_error


def test_a_package_without_a_connection_or_a_key_twice_is_refused(settings):
    settings.CONNECTIONS = ["tests.connections"]
    with pytest.raises(ImproperlyConfigured, match="has no CONNECTION"):
        connections.all_connections()
    settings.CONNECTIONS = ["tests.connections.relay", "tests.connections.relay"]
    with pytest.raises(ImproperlyConfigured, match="two connections are called 'relay'"):
        connections.all_connections()
