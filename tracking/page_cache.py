"""The buyer's tracking page kept rendered in the cache, one entry per version of what it shows:
an update makes a new key, so nothing ever has to find and delete an entry.

The key is the shipment's id and a digest of everything that makes the page's bytes:

- the shipment's row, every column: its status, dates and description, its language, the
  stalled and late flags (which the watchers set with a raw UPDATE), its page token, and
  updated_at, which every save moves. Checkpoints are not in the row, but nothing writes one
  without saving its shipment in the same transaction (tracking.services.ingest.apply_signal);
- the storefront's row, every column: name, brand, legal identity, language, time zone, however
  they were changed (dashboard settings, admin, a queryset update); the model has no
  updated_at, and nothing here needs one;
- the release: the templates, the translation catalogs, the stylesheet's hashed name, and the
  modules that name statuses and carriers.

The two rows' digests are PostgreSQL's (md5 of each row's text), read by the one indexed query
that finds the shipment by its token (tracking.services.links.page_version): a hit costs that
query and one cache read, and loads no model; a revoked or unknown token finds no row and is a
404 before the cache is asked. Whole rows rather than a list of the fields the templates read:
a field added to the page later cannot be forgotten here, and a change to a column the page does
not show costs one render. The page's language follows from the two rows (the buyer's, or the
shop's), so each language has its own entry. An entry for an old version is never read again
and expires after PAGE_SECONDS.

Rendered after its version was read, an entry may hold newer news than its key says, never
older: the checkpoints and the row that names them are committed together.

The Content-Security-Policy nonce is new in every response: an entry holds the page cut at its
nonce, and each response is joined with its own. The nonce is 16 random bytes, so it occurs in
the page only where the templates put it.
"""

import functools
import hashlib
import logging
from pathlib import Path

import django
from django.conf import settings
from django.core.cache import cache
from django.template.loader import get_template
from django.templatetags.static import static
from redis.exceptions import RedisError

from tracking import carriers, statuses
from tracking.services.links import PageVersion

logger = logging.getLogger(__name__)

# Long enough for a buyer's visits after an email, short enough that the versions an update
# leaves behind do not pile up in the Redis the broker also uses.
PAGE_SECONDS = 60 * 60
# Every template the page is rendered from (a test checks this against what a render uses).
TEMPLATES = ("tracking/page.html", "buyer_base.html", "storefront_trust.html")
# The modules whose words the page shows (status and carrier names), besides the catalogs.
WORDING_MODULES = (statuses, carriers)
STYLESHEET = "css/buyer.css"


def key(version: PageVersion) -> str:
    """The cache key of the page of this version of a shipment and its storefront."""
    digest = hashlib.sha256(f"{release()}:{version.rows_digest}".encode()).hexdigest()
    return f"tracking:page:{version.shipment_id}:{digest}"


def get(key: str, nonce: str) -> bytes | None:
    """The cached page with this response's nonce in it, or None."""
    parts = _quietly(cache.get, key)
    return None if parts is None else nonce.encode().join(parts)


def put(key: str, content: bytes, nonce: str) -> None:
    _quietly(cache.set, key, content.split(nonce.encode()), PAGE_SECONDS)


@functools.cache
def release() -> str:
    """A digest of the files the page is made from, once per process: a deploy that changes
    one reads no page rendered before it."""
    digest = hashlib.sha256(django.get_version().encode())
    files = [Path(get_template(name).origin.name) for name in TEMPLATES]
    for folder in settings.LOCALE_PATHS:
        files += sorted(Path(folder).glob("*/LC_MESSAGES/*.mo"))
    files += [Path(module.__file__) for module in WORDING_MODULES]
    for path in files:
        digest.update(path.read_bytes())
    # The hashed name production serves (ManifestStaticFilesStorage): a new stylesheet, a new
    # link in the page.
    digest.update(static(STYLESHEET).encode())
    return digest.hexdigest()


class _Reachability:
    """Whether the last cache call worked, so an outage is logged when it starts and ends, not
    on every page (the page is then rendered each time, as before the cache)."""

    down = False


def _quietly(operation, *args):
    try:
        result = operation(*args)
    except RedisError as error:
        if not _Reachability.down:
            # The type only: a Redis URL in an error may carry a password.
            logger.warning("tracking page: cache unreachable (%s)", type(error).__name__)
            _Reachability.down = True
        return None
    if _Reachability.down:
        logger.warning("tracking page: cache reachable again")
        _Reachability.down = False
    return result
