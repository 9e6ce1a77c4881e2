import os
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from django.test import override_settings

from storefront_settings.models import ApiKey, Membership, ProviderSecret, Storefront
from storefront_settings.services import credentials
from tests.factories import MembershipFactory

PASSWORD = "correct horse battery staple"
FIXED_SEND_AT = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

# What the xdist workers share besides PostgreSQL (where pytest-django gives each its own test
# database): the Redis that is both Django's cache and the Celery broker. Each worker gets its own
# cache key prefix and task queue, so one's rate-limit counters never meet the other's and one's
# `celery_worker` never takes the other's tasks.
PER_WORKER_ENVIRONMENT = ("CACHE_KEY_PREFIX", "CELERY_DEFAULT_QUEUE")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_newgateway(gateway):
    """Set each xdist worker's own values (the controller's, pyproject's `env`, suffixed with the
    worker's id) in its environment before its pytest starts, so the settings read them at import
    like any other variable; pytest-env ("D:") keeps a value already set."""
    values = {name: f"{os.environ[name]}-{gateway.id}" for name in PER_WORKER_ENVIRONMENT}
    gateway.remote_exec(f"import os; os.environ.update({values!r})").waitclose()


def pytest_collection_modifyitems(config, items):
    """Mark the browser tests and the tests that use the `celery_worker` fixture, so that
    `pytest -m "not browser and not worker"` is a quick run (`make test` runs them all). A test
    that asks for a worker only midway, or breaks the broker, carries `worker` itself."""
    browser_dir = config.rootpath / "tests" / "browser"
    for item in items:
        if browser_dir in item.path.parents:
            item.add_marker(pytest.mark.browser)
        if "celery_worker" in item.fixturenames:
            item.add_marker(pytest.mark.worker)


@pytest.fixture(autouse=True, scope="session")
def _test_only_settings():
    with override_settings(
        # Production serves hashed static names from a manifest that collectstatic writes; the
        # tests render templates without running collectstatic.
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        # A deliberately slow hash protects real passwords; test users need none of that.
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    ):
        yield


@pytest.fixture(autouse=True)
def _empty_edge_cache():
    """Each test starts with the webhook edge's in-process cache empty: what an earlier test
    cached (in a transaction since rolled back) is not this test's."""
    from storefront_settings.edge_cache import edge_cache

    edge_cache.reset()


@dataclass
class Tenant:
    storefront: Storefront
    owner: object
    membership: Membership
    api_key: ApiKey
    raw_api_key: str
    stripe_secret: ProviderSecret


def verify_session(client, device) -> None:
    """Mark the client's session as having given a code from `device`, as django_otp.login
    does (the admin asks for it with DEBUG off)."""
    from django_otp import DEVICE_ID_SESSION_KEY

    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


@pytest.fixture
def ops(client, db):
    """A client logged in as an ops superuser (Django admin), with a second factor."""
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice

    admin = get_user_model().objects.create_superuser("ops@example.com", "ops@example.com", "x")
    client.force_login(admin)
    verify_session(client, TOTPDevice.objects.create(user=admin, name="test", confirmed=True))
    return client


@pytest.fixture
def make_tenant(db):
    def make(name: str, secret: str) -> Tenant:
        membership = MembershipFactory(storefront__name=name, storefront__slug=name.lower())
        storefront = membership.storefront
        api_key, raw = credentials.create_api_key(storefront=storefront, name="test")
        stripe_secret = credentials.add_provider_secret(
            storefront=storefront, provider="stripe", secret=secret
        )
        return Tenant(storefront, membership.user, membership, api_key, raw, stripe_secret)

    return make


ALPHA_SECRET = "whsec_alphaalphaalphaalpha"
BRAVO_SECRET = "whsec_bravobravobravobravo"


@pytest.fixture
def alpha(make_tenant) -> Tenant:
    """The tenant a test acts as: storefront "Alpha" (slug alpha), its owner, an API key and a
    Stripe signing secret. A test that needs only the storefront takes `alpha.storefront`."""
    return make_tenant("Alpha", ALPHA_SECRET)


@pytest.fixture
def bravo(make_tenant) -> Tenant:
    """Another tenant, the one whose rows `alpha` must never see or touch."""
    return make_tenant("Bravo", BRAVO_SECRET)


@pytest.fixture
def two_storefronts(alpha, bravo):
    """Two tenants side by side, for tests that prove neither sees the other. The same objects
    as `alpha` and `bravo`, so a test may take either spelling (or both)."""
    return alpha, bravo


@pytest.fixture
def alpha_client(client, alpha):
    """The test client, logged in as alpha's owner (it is the same object as `client`)."""
    client.force_login(alpha.owner)
    return client


@pytest.fixture
def member_of(db):
    """Make a member of a storefront: `member_of(storefront, role="viewer")` gives the new
    Membership (its user has the password PASSWORD); further keywords set the user's fields."""

    def make(storefront, role=Membership.Role.STAFF, **user) -> Membership:
        return MembershipFactory(
            storefront=storefront, role=role, **{f"user__{k}": v for k, v in user.items()}
        )

    return make


@pytest.fixture
def schedule_message():
    """Schedule a test email, due now unless told otherwise."""
    import itertools

    from notifications.services import outbox

    counter = itertools.count()

    def schedule(storefront, **overrides):
        fields = {
            "to": "buyer@example.com",
            "template": "test_message",
            "context": {"requested_by": "Camille", "settings_url": "https://shop.example/s"},
            # A fixed moment before the tests' NOON_PARIS: whether a message is due must not
            # depend on the wall clock.
            "send_at": FIXED_SEND_AT,
            "idempotency_key": f"test-{next(counter)}",
            "kind": "test",
        }
        fields.update(overrides)
        return outbox.schedule(storefront, **fields)

    return schedule


def reset_broker_connections(*, forget_outage: bool = True):
    """Drop the Celery app's broker connection pools, so the next send connects afresh (after
    the broker URL changed, or a test worker shut the pools down), and, unless told not to, the
    outage this process remembers, so the next send is tried at once rather than after the
    backoff delay (inbound.outage)."""
    from kombu import pools

    from config.celery import app
    from inbound import outage

    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None
    # kombu keeps connection and producer pools per broker URL, process-wide.
    pools.reset()
    if forget_outage:
        outage.BROKER.forget()


@pytest.fixture(autouse=True)
def _broker_presumed_up():
    """Each test starts with the broker presumed up: an outage that an earlier test in this
    process simulated is not remembered (inbound.outage keeps it in the process)."""
    from inbound import outage

    outage.BROKER.forget()


@pytest.fixture
def celery_worker():
    """A real Celery worker (in a thread) on the real broker. The tests' tasks go to a queue of
    their own (CELERY_DEFAULT_QUEUE in pyproject.toml), so a demo worker on the same broker
    never takes them; it is emptied first of anything an interrupted run left."""
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    queue = app.conf.task_default_queue
    with app.connection_for_write() as conn:
        conn.default_channel.queue_declare(queue=queue, durable=True, auto_delete=False)
        conn.default_channel.queue_purge(queue)
    try:
        with start_worker(app, pool="solo", queues=[queue], perform_ping_check=False):
            yield queue
    finally:
        reset_broker_connections()


def wait_for(condition, timeout=30.0):
    """Poll until the condition holds (there is no result backend to wait on); fail after
    `timeout` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


@pytest.fixture
def fresh_cache(settings):
    """The cache under a key prefix of this test's own, so counters (rate limits) start at
    zero. Never cache.clear(): the cache shares its Redis with the broker."""
    import uuid

    settings.CACHES = {
        "default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
    }
