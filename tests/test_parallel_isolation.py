"""`make test` runs the suite in several pytest-xdist workers at once. They share the PostgreSQL
server and the Redis that is both the cache and the broker; each must have its own database,
cache key prefix and task queue (tests/conftest.py), or one would count, read or consume what
the other wrote."""

import os
import uuid

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from config.celery import app

# "gw0", "gw1"… in a worker; unset in a plain `pytest` run, where the names are pyproject's own.
WORKER = os.environ.get("PYTEST_XDIST_WORKER")
SUFFIX = f"-{WORKER}" if WORKER else ""


def test_the_cache_prefix_and_the_task_queue_are_this_workers_own():
    prefix, queue = settings.CACHES["default"]["KEY_PREFIX"], settings.CELERY_TASK_DEFAULT_QUEUE
    assert (prefix, queue) == (f"aftersale-tests{SUFFIX}", f"aftersale-tests{SUFFIX}")
    assert app.conf.task_default_queue == queue


@pytest.mark.django_db
def test_the_test_database_is_this_workers_own():
    expected = "test_aftersale" + (f"_{WORKER}" if WORKER else "")
    assert connection.settings_dict["NAME"] == expected
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        assert cursor.fetchone() == (expected,)


def test_a_cached_value_lands_under_this_workers_prefix():
    key = f"parallel-isolation-{uuid.uuid4().hex}"
    cache.set(key, "here", timeout=60)
    try:
        stored = redis.Redis.from_url(settings.REDIS_URL).keys(f"*:{key}")
        assert stored == [f"aftersale-tests{SUFFIX}:1:{key}".encode()]
    finally:
        cache.delete(key)


def test_a_sent_task_waits_in_this_workers_queue():
    queue = f"aftersale-tests{SUFFIX}"
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        channel.queue_declare(queue=queue, durable=True, auto_delete=False)
        channel.queue_purge(queue)
        try:
            app.send_task("tests.no_such_task", connection=conn)
            assert channel.queue_declare(queue=queue, passive=True).message_count == 1
        finally:
            channel.queue_purge(queue)
