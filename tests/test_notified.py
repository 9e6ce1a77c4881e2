"""inbound.notified, the fetch-on-notify pattern (PayPlug, Mollie), on a made-up connection
(tests/connections/beacon): the notification is only a hint, stored as it came; the worker
fetches the object with the storefront's keys and stores what it fetched, once per state. The
provider's API is mocked at its HTTP boundary."""

import json

import pytest
import responses

from inbound.models import InboundEvent
from inbound.notified import NOTIFICATION
from inbound.tasks import process_inbound_event
from storefront_settings.services.credentials import add_provider_secret
from tests.connections import beacon

Status = InboundEvent.Status
OLD_KEY, NEW_KEY = "bk_oldoldold", "bk_newnewnew"
OBJECT = f"{beacon.BASE}/objects/bc_42"


@pytest.fixture
def with_beacon(settings, alpha):
    settings.CONNECTIONS = [*settings.CONNECTIONS, "tests.connections.beacon"]
    add_provider_secret(storefront=alpha.storefront, provider="beacon", secret=OLD_KEY)
    add_provider_secret(storefront=alpha.storefront, provider="beacon", secret=NEW_KEY)
    return alpha.storefront


def notify(client, storefront, body=b'{"id": "bc_42"}'):
    return client.post(
        f"/webhooks/beacon/{storefront.public_id}/", data=body, content_type="application/json"
    )


def process_all(storefront) -> list[str]:
    """Process every received notification, as the worker's task does."""
    pending = InboundEvent.objects.for_storefront(storefront).filter(
        status=Status.RECEIVED, event_type=NOTIFICATION
    )
    return [process_inbound_event.run(pk, "beacon") for pk in pending.values_list("pk", flat=True)]


def fetched_events(storefront):
    return InboundEvent.objects.for_storefront(storefront).exclude(event_type=NOTIFICATION)


@responses.activate
def test_the_notification_is_stored_as_it_came_and_the_fetched_state_is_the_event(
    client, with_beacon
):
    responses.get(OBJECT, json={"id": "bc_42", "status": "failed"})

    answer = notify(client, with_beacon)

    assert answer.status_code == 200
    notification = InboundEvent.objects.for_storefront(with_beacon).get()
    assert notification.event_type == NOTIFICATION
    assert notification.event_id.startswith("bc_42@")
    assert notification.body == '{"id": "bc_42"}'
    assert not responses.calls  # nothing is fetched in the web request

    assert process_all(with_beacon) == ["processed"]

    fetched = fetched_events(with_beacon).get()
    assert (fetched.event_id, fetched.event_type, fetched.status) == (
        "bc_42:failed",
        "failed",
        Status.PROCESSED,
    )
    body = json.loads(fetched.body)
    assert body["object"] == {"id": "bc_42", "status": "failed"}
    assert body["notified_at"] == notification.received_at.isoformat()
    # The newest key was used.
    assert responses.calls[0].request.headers["Authorization"] == NEW_KEY
    notification.refresh_from_db()
    assert notification.status == Status.PROCESSED


@responses.activate
def test_a_state_notified_twice_is_one_event_and_a_new_state_is_another(client, with_beacon):
    responses.get(OBJECT, json={"id": "bc_42", "status": "failed"})
    notify(client, with_beacon)
    notify(client, with_beacon)

    assert sorted(process_all(with_beacon)) == ["duplicate", "processed"]
    assert list(fetched_events(with_beacon).values_list("event_id", flat=True)) == ["bc_42:failed"]
    ignored = InboundEvent.objects.for_storefront(with_beacon).get(status=Status.IGNORED)
    assert ignored.last_error == "this state was received before"

    responses.replace(responses.GET, OBJECT, json={"id": "bc_42", "status": "paid"})
    notify(client, with_beacon)
    assert process_all(with_beacon) == ["processed"]
    assert set(fetched_events(with_beacon).values_list("event_id", flat=True)) == {
        "bc_42:failed",
        "bc_42:paid",
    }


@responses.activate
def test_an_object_the_provider_does_not_know_is_rejected_and_nothing_is_processed(
    client, with_beacon
):
    responses.get(OBJECT, status=404)

    notify(client, with_beacon)

    assert process_all(with_beacon) == ["rejected"]
    assert not fetched_events(with_beacon).exists()
    event = InboundEvent.objects.for_storefront(with_beacon).get()
    assert (event.status, event.last_error) == (Status.REJECTED, "Beacon has no bc_42")
    # Each key was asked: the object may belong to the older one's account.
    assert [call.request.headers["Authorization"] for call in responses.calls] == [
        NEW_KEY,
        OLD_KEY,
    ]


@responses.activate
def test_the_key_that_can_see_the_object_is_the_one_used(client, with_beacon):
    def answer(request):
        if request.headers["Authorization"] == OLD_KEY:
            return 200, {}, json.dumps({"id": "bc_42", "status": "paid"})
        return 401, {}, "{}"

    responses.add_callback(responses.GET, OBJECT, callback=answer)
    notify(client, with_beacon)

    assert process_all(with_beacon) == ["processed"]
    assert fetched_events(with_beacon).get().event_id == "bc_42:paid"


@responses.activate
def test_keys_all_refused_fail_the_event_for_ops_naming_no_key(client, with_beacon):
    responses.get(OBJECT, status=401)
    notify(client, with_beacon)

    assert process_all(with_beacon) == ["failed"]
    event = InboundEvent.objects.for_storefront(with_beacon).get()
    assert event.status == Status.FAILED and event.attempts == 1
    assert "refused (HTTP 401)" in event.last_error
    assert NEW_KEY not in event.last_error and OLD_KEY not in event.last_error


@responses.activate
def test_an_api_outage_leaves_the_notification_for_a_retry(client, with_beacon, monkeypatch):
    monkeypatch.setattr("urllib3.util.retry.Retry.sleep", lambda self, response=None: None)
    responses.get(OBJECT, status=503)
    notify(client, with_beacon)
    pk = InboundEvent.objects.for_storefront(with_beacon).get().pk

    with pytest.raises(Exception, match="Retry"):
        # Called as Celery calls it, so that its retry is raised rather than scheduled.
        process_inbound_event.apply(args=[pk, "beacon"], throw=True)

    event = InboundEvent.objects.for_storefront(with_beacon).get()
    assert (event.status, event.attempts) == (Status.RECEIVED, 1)
    assert "HTTP 503 after 3 retries" in event.last_error
    assert not fetched_events(with_beacon).exists()


def test_the_edge_refuses_what_names_no_object_and_a_storefront_without_a_key(
    client, with_beacon, bravo
):
    refused = notify(client, with_beacon, body=b'{"id": "../../admin"}')
    assert refused.status_code == 400 and refused.json() == {"error": "no object id"}

    no_key = notify(client, bravo.storefront)
    assert no_key.status_code == 400 and no_key.json() == {"error": "no API key configured"}
    assert not InboundEvent.objects.for_storefront(with_beacon).exists()
    assert not InboundEvent.objects.for_storefront(bravo.storefront).exists()


def test_the_test_notification_is_answered_and_stored_nowhere(client, with_beacon):
    answer = notify(client, with_beacon, body=b'{"id": "bc_test"}')

    assert answer.status_code == 200
    assert answer.json() == {"received": True, "ignored": True}
    assert not InboundEvent.objects.for_storefront(with_beacon).exists()


@responses.activate
def test_another_tenants_notification_is_fetched_with_its_own_keys_only(client, with_beacon, bravo):
    add_provider_secret(storefront=bravo.storefront, provider="beacon", secret="bk_bravobravo")
    # Alpha's object exists for alpha's keys only, as in the provider's accounts.
    responses.add_callback(
        responses.GET,
        OBJECT,
        callback=lambda request: (
            (404, {}, "{}")
            if request.headers["Authorization"] == "bk_bravobravo"
            else (200, {}, json.dumps({"id": "bc_42", "status": "failed"}))
        ),
    )

    notify(client, bravo.storefront)

    assert process_all(bravo.storefront) == ["rejected"]
    assert [call.request.headers["Authorization"] for call in responses.calls] == ["bk_bravobravo"]
    assert not fetched_events(bravo.storefront).exists()
    assert not InboundEvent.objects.for_storefront(with_beacon).exists()


def test_a_flood_of_notifications_is_cut_off_per_storefront_and_source(
    client, with_beacon, bravo, settings
):
    settings.UNVERIFIED_WEBHOOKS_PER_MINUTE = 3
    add_provider_secret(storefront=bravo.storefront, provider="beacon", secret="bk_bravobravo")
    answers = [notify(client, with_beacon, b'{"id": "bc_%d"}' % n).status_code for n in range(5)]

    assert answers == [200, 200, 200, 429, 429]
    assert InboundEvent.objects.for_storefront(with_beacon).count() == 3
    refused = notify(client, with_beacon, b'{"id": "bc_9"}')
    assert refused.json() == {"error": "too many notifications; try again in a minute"}
    # Another storefront's notifications are counted apart.
    assert notify(client, bravo.storefront).status_code == 200


def test_notifications_are_taken_when_redis_cannot_count_them(client, with_beacon, settings):
    settings.UNVERIFIED_WEBHOOKS_PER_MINUTE = 1
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "unix:///nonexistent/redis.sock",
        }
    }

    answers = [notify(client, with_beacon, b'{"id": "bc_%d"}' % n).status_code for n in range(3)]

    assert answers == [200, 200, 200]
