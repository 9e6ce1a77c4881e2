"""The webhook edge's in-process cache (storefront_settings.edge_cache): a warm edge sends one
query, a secret added or revoked is seen at once in the process that changed it and within
CHECK_INTERVAL in every other (through the version key in the real Redis), and nothing is used
longer than TTL whatever happens."""

import json

import pytest
from django.test import override_settings
from django.utils import timezone

from inbound.models import InboundEvent
from storefront_settings import edge_cache as module
from storefront_settings.edge_cache import CHECK_INTERVAL, TTL, EdgeCache, edge_cache
from storefront_settings.models import ProviderSecret, Storefront
from storefront_settings.services import credentials
from tests.conftest import ALPHA_SECRET
from tests.test_stripe_webhook import failed_event, post, sign

NEW_SECRET = "whsec_newnewnewnewnewnew1"


class Clock:
    """A monotonic clock a test moves by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    """The process's edge cache on a clock of the test's."""
    clock = Clock()
    monkeypatch.setattr(edge_cache, "clock", clock)
    edge_cache.reset()
    return clock


def deliver(client, storefront, event_id: str, secret: str = ALPHA_SECRET):
    body = json.dumps(failed_event(event_id=event_id)).encode()
    return post(client, storefront, body, sign(body, secret))


def stored_ids(storefront) -> list[str]:
    return list(
        InboundEvent.objects.for_storefront(storefront)
        .order_by("pk")
        .values_list("event_id", flat=True)
    )


def revoke_elsewhere(provider_secret: ProviderSecret) -> None:
    """Revoke a secret as another gunicorn worker does: the row changes (this process is not
    told), then, once committed, the worker publishes the change (publish_change)."""
    ProviderSecret.objects.for_storefront(provider_secret.storefront).filter(
        pk=provider_secret.pk
    ).update(revoked_at=timezone.now())
    module.publish_change()


# --- one process --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_warm_edge_sends_only_the_insert(client, alpha, django_assert_num_queries):
    assert deliver(client, alpha.storefront, "evt_1").status_code == 200
    with django_assert_num_queries(1) as captured:
        assert deliver(client, alpha.storefront, "evt_2").json()["duplicate"] is False
    assert captured.captured_queries[0]["sql"].lstrip().startswith("INSERT")
    assert stored_ids(alpha.storefront) == ["evt_1", "evt_2"]


@pytest.mark.django_db
def test_a_secret_added_is_accepted_at_once(client, alpha):
    assert deliver(client, alpha.storefront, "evt_1").status_code == 200
    credentials.add_provider_secret(
        storefront=alpha.storefront, provider="stripe", secret=NEW_SECRET
    )
    assert deliver(client, alpha.storefront, "evt_2", NEW_SECRET).status_code == 200


@pytest.mark.django_db
def test_a_secret_revoked_is_refused_at_once(client, alpha):
    assert deliver(client, alpha.storefront, "evt_1").status_code == 200
    credentials.revoke_provider_secret(
        storefront=alpha.storefront, provider_secret=alpha.stripe_secret
    )
    response = deliver(client, alpha.storefront, "evt_2")
    assert response.status_code == 400
    assert response.json() == {"error": "no webhook secret configured"}
    assert stored_ids(alpha.storefront) == ["evt_1"]


@pytest.mark.django_db
def test_a_deleted_storefront_is_not_found(client, alpha):
    assert deliver(client, alpha.storefront, "evt_1").status_code == 200
    Storefront.objects.filter(pk=alpha.storefront.pk).delete()
    assert post(client, alpha.storefront, b"{}", "t=1,v1=00").status_code == 404


@pytest.mark.django_db
def test_an_unknown_public_id_is_looked_up_every_time(client, alpha):
    # Not cached: made-up URLs cannot fill the memory, and a storefront is found once it exists.
    ghost = Storefront(name="Ghost", slug="ghost", public_id="sf_notyetthere")
    assert post(client, ghost, b"{}", "t=1,v1=00").status_code == 404
    ghost.save()
    credentials.add_provider_secret(storefront=ghost, provider="stripe", secret=NEW_SECRET)
    assert deliver(client, ghost, "evt_1", NEW_SECRET).status_code == 200


# --- several processes --------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_secret_revoked_in_another_process_is_refused_after_the_check_interval(
    client, alpha, clock
):
    assert deliver(client, alpha.storefront, "evt_1").status_code == 200
    revoke_elsewhere(alpha.stripe_secret)

    # Until this process reads the version again, it uses what it cached...
    clock.now += CHECK_INTERVAL / 2
    assert deliver(client, alpha.storefront, "evt_2").status_code == 200
    # ...and once it does, the revoked secret is refused.
    clock.now += CHECK_INTERVAL
    response = deliver(client, alpha.storefront, "evt_3")
    assert response.status_code == 400
    assert stored_ids(alpha.storefront) == ["evt_1", "evt_2"]


@pytest.mark.django_db
def test_the_service_publishes_a_revocation_once_committed(
    alpha, django_capture_on_commit_callbacks
):
    # Another worker's cache, warm, with its own clock.
    other_clock = Clock()
    other = EdgeCache(clock=other_clock)
    assert other.active_secrets(alpha.storefront, "stripe") == [ALPHA_SECRET]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        credentials.revoke_provider_secret(
            storefront=alpha.storefront, provider_secret=alpha.stripe_secret
        )
    other_clock.now += CHECK_INTERVAL
    # Not committed yet: nothing is published, the other worker still has the secret.
    assert other.active_secrets(alpha.storefront, "stripe") == [ALPHA_SECRET]

    for callback in callbacks:
        callback()  # the commit
    assert other.active_secrets(alpha.storefront, "stripe") == [ALPHA_SECRET]
    other_clock.now += CHECK_INTERVAL
    assert other.active_secrets(alpha.storefront, "stripe") == []


@pytest.mark.django_db
def test_adding_a_secret_is_published_too(alpha, django_capture_on_commit_callbacks):
    other_clock = Clock()
    other = EdgeCache(clock=other_clock)
    assert other.active_secrets(alpha.storefront, "stripe") == [ALPHA_SECRET]
    with django_capture_on_commit_callbacks(execute=True):
        credentials.add_provider_secret(
            storefront=alpha.storefront, provider="stripe", secret=NEW_SECRET
        )
    other_clock.now += CHECK_INTERVAL
    assert other.active_secrets(alpha.storefront, "stripe") == [NEW_SECRET, ALPHA_SECRET]


@pytest.mark.django_db
def test_without_redis_an_entry_is_used_at_most_ttl(alpha):
    other_clock = Clock()
    other = EdgeCache(clock=other_clock)
    assert other.active_secrets(alpha.storefront, "stripe") == [ALPHA_SECRET]
    unreachable = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "unix:///nonexistent/redis.sock",
        }
    }
    with override_settings(CACHES=unreachable):
        # The revocation cannot be published, and the poll fails: the entry lives out its TTL.
        revoke_elsewhere(alpha.stripe_secret)
        other_clock.now += TTL - 1
        assert other.active_secrets(alpha.storefront, "stripe") == [ALPHA_SECRET]
        other_clock.now += 1
        assert other.active_secrets(alpha.storefront, "stripe") == []


@pytest.mark.django_db
def test_a_value_read_across_a_change_is_not_kept(alpha):
    # A request reads the secrets while another thread's change empties the cache: what it read
    # may predate the change, so it is used for this request only.
    cache = EdgeCache(clock=Clock())

    def load_while_cleared():
        cache.clear()
        return [ALPHA_SECRET]

    assert cache._get(("secrets", alpha.storefront.pk, "stripe"), load_while_cleared) == [
        ALPHA_SECRET
    ]
    assert cache.entries == {}


def test_the_returned_secrets_cannot_change_the_cache():
    # Served from the cache without a database (no django_db mark).
    cache = EdgeCache(clock=Clock())
    cache.entries[("secrets", 1, "stripe")] = (2000.0, [ALPHA_SECRET])
    cache.next_check = 2000.0
    sf = Storefront(pk=1)
    cache.active_secrets(sf, "stripe").append("whsec_injectedinjected")
    assert cache.active_secrets(sf, "stripe") == [ALPHA_SECRET]
