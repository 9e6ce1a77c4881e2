"""What the webhook edge reads on every delivery, kept in each process for a short time: the
storefront by its public id, and a connection's active signing secrets, decrypted.

Uncached, these cost a webhook two queries (with their ORM compilation) and a Fernet decryption
per secret before its one INSERT: over a third of its time and more than half of its CPU in a
profile of the edge under gunicorn (bench/README.md, webhook_ingest.py). They change rarely;
webhooks come in bursts.

How fresh the cache is, which is what a revoked secret depends on:

- Every change goes through a save or a delete of a ProviderSecret or a Storefront (the
  receivers below) or through credentials.revoke_provider_secret (an UPDATE, so it calls
  invalidate() itself). invalidate() empties this process's cache at once and, once the
  transaction commits, writes a new value under VERSION_KEY in Django's cache (Redis).
- Every process reads VERSION_KEY at most once every CHECK_INTERVAL seconds, when it needs an
  entry, and empties its cache when the value changed.

So a revoked secret is refused by every gunicorn worker within CHECK_INTERVAL (1 s) of the
revocation's commit, and a secret added is accepted as soon. Whatever else happens (Redis
unreachable, a row changed in SQL behind the services' back), no entry is used more than TTL
(30 s) after it was read from the database.

Only what exists is kept: an unknown public id is looked up every time (as before), so made-up
URLs cannot fill the memory. The cached Storefront is shared by the requests that find it:
the edge uses it for its primary key and as the scope of queries, never changes it.
"""

import logging
import math
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.core.signals import setting_changed
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from storefront_settings.models import ProviderSecret, Storefront
from storefront_settings.selectors import active_provider_secrets

logger = logging.getLogger(__name__)

TTL = 30.0  # seconds an entry is used without reading the database again
CHECK_INTERVAL = 1.0  # seconds between two reads of VERSION_KEY, per process
VERSION_KEY = "storefront_settings:edge-cache-version"
# Past this many entries the cache starts again empty rather than grow (a few per storefront
# that receives webhooks, per process).
MAX_ENTRIES = 10_000


class EdgeCache:
    """One process's cache. `clock` is time.monotonic, or a test's."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.entries: dict[tuple, tuple[float, Any]] = {}
        # Bumped by every clear(), so that a value read from the database across a clear is
        # not kept (another thread's request may have read it before the change committed).
        self.generation = 0
        self.version: str | None = None
        self.next_check = -math.inf

    def storefront(self, public_id: str) -> Storefront | None:
        """The storefront whose webhook URL carries `public_id`, or None."""
        return self._get(("storefront", public_id), lambda: _storefront(public_id))

    def active_secrets(self, storefront: Storefront, provider: str) -> list[str]:
        """The connection's active secrets for the storefront, newest first (as the selector
        returns them); a copy, so the caller cannot change the cached list."""
        found = self._get(
            ("secrets", storefront.pk, provider),
            lambda: active_provider_secrets(storefront=storefront, provider=provider),
        )
        return list(found)

    def clear(self) -> None:
        self.entries = {}
        self.generation += 1

    def reset(self) -> None:
        """Empty, and read VERSION_KEY on the next lookup (a test that changes the clock)."""
        self.clear()
        self.version = None
        self.next_check = -math.inf

    def _get(self, key: tuple, load: Callable[[], Any]) -> Any:
        now = self.clock()
        self._follow_version(now)
        entry = self.entries.get(key)
        if entry is not None and now < entry[0]:
            return entry[1]
        generation = self.generation
        value = load()
        if value is not None and generation == self.generation:
            if len(self.entries) >= MAX_ENTRIES:
                self.clear()
            self.entries[key] = (now + TTL, value)
        return value

    def _follow_version(self, now: float) -> None:
        """Empty the cache if another process published a change since the last look."""
        if now < self.next_check:
            return
        self.next_check = now + CHECK_INTERVAL
        try:
            version = cache.get(VERSION_KEY)
        except Exception:  # noqa: BLE001 - Redis unreachable: entries live out their TTL
            return
        if version != self.version:
            self.version = version
            self.clear()


def _storefront(public_id: str) -> Storefront | None:
    return Storefront.objects.filter(public_id=public_id).first()


# The cache of this process: the edge's reads go through it.
edge_cache = EdgeCache()


def publish_change() -> None:
    """Tell every process to empty its cache (a new value under VERSION_KEY)."""
    try:
        cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception as error:  # noqa: BLE001 - a change must not fail because of Redis
        logger.warning(
            "edge cache: change not published (%s); other processes keep what they cached "
            "for up to %d s",
            type(error).__name__,
            TTL,
        )


def invalidate() -> None:
    """A storefront or a secret changed: forget now in this process, and in every process once
    the change is committed (before that, another process would read the old rows again)."""
    edge_cache.clear()

    def committed() -> None:
        edge_cache.clear()
        publish_change()

    transaction.on_commit(committed)


@receiver(post_save, sender=ProviderSecret, dispatch_uid="edge_cache.secret_saved")
@receiver(post_delete, sender=ProviderSecret, dispatch_uid="edge_cache.secret_deleted")
@receiver(post_save, sender=Storefront, dispatch_uid="edge_cache.storefront_saved")
@receiver(post_delete, sender=Storefront, dispatch_uid="edge_cache.storefront_deleted")
def _changed(**kwargs) -> None:
    invalidate()


@receiver(setting_changed, dispatch_uid="edge_cache.setting_changed")
def _keys_changed(*, setting, **kwargs) -> None:
    # Secrets are cached decrypted: a test that swaps the encryption keys must read them again.
    if setting == "FIELD_ENCRYPTION_KEYS":
        edge_cache.clear()
