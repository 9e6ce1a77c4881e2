"""The one webhook edge every inbound source goes through: find the storefront in the URL, read
a size-limited body, have the source's adapter verify it against the storefront's secrets and
name the events in it, store each raw, answer as the source expects.

Nothing is processed here (a worker does that from the stored row), so the source gets its 2xx
in milliseconds, and a bad request stores nothing. No transaction wraps the view: each stored
event is committed before the response; dispatch() hands it to a worker. The storefront and its
secrets come from the process's cache (storefront_settings.edge_cache, which says how soon a
revoked secret is refused), and /webhooks/ is served with a short middleware stack
(config.webhook_stack): once the cache is warm, the INSERT is the request's one statement
besides the connection pool's health check.

A source is one connection (storefront_settings.connections): its package declares a
WebhookAdapter, next to the source's parsing code, as django-anymail's AnymailBaseWebhookView
subclasses name their ESP's validation and parsing. The one URL, /webhooks/<source>/<public id>/,
finds the adapter by the connection's key; an unknown source is a 404."""

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from inbound import services
from inbound.errors import Throttled, VerificationError
from storefront_settings import connections
from storefront_settings.edge_cache import edge_cache
from storefront_settings.models import Storefront

logger = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024


def refuse(status: int, reason: str) -> JsonResponse:
    return JsonResponse({"error": reason}, status=status)


def read_body(request) -> bytes | JsonResponse:
    """The raw body, or the refusal to return: 413 above 1 MB."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit():
        return refuse(400, "bad Content-Length")
    if int(declared) > MAX_BODY:
        return refuse(413, "body larger than 1 MB")
    body = request.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        return refuse(413, "body larger than 1 MB")
    return body


def storefront_or_404(public_id: str) -> Storefront:
    storefront = edge_cache.storefront(public_id)
    if storefront is None:
        raise Http404("No such storefront.")
    return storefront


def kept_headers(request, names) -> dict:
    """The headers worth keeping with the raw body (for replay and for ops)."""
    return {name: request.headers[name] for name in names if name in request.headers}


def check_rate(storefront: Storefront, service: str) -> None:
    """Throttled (429) when the storefront was sent more than
    settings.UNVERIFIED_WEBHOOKS_PER_MINUTE deliveries of this source this minute.

    Anyone who knows a storefront's URL can post a notification that no signature vouches for
    at the edge (PayPlug's, Mollie's, and PayPal's, which only PayPal's postback verifies); each
    one costs a row and a call to the provider's API with the merchant's credentials, which
    have their own rate limits. A flood of made-up ones is therefore cut off per storefront and
    source, well above a shop's real rate, with a 429 that the providers retry later. A fixed
    window in Redis: when Redis is unreachable, notifications are taken, as the rest of the edge
    does."""
    window = int(time.time() // 60)
    key = f"inbound:unverified:{storefront.pk}:{service}:{window}"
    try:
        cache.add(key, 0, timeout=120)
        count = cache.incr(key)
    except Exception as error:  # noqa: BLE001 - any cache failure: the edge keeps working
        logger.debug("notification rate not counted: %s", type(error).__name__)
        return
    if count > settings.UNVERIFIED_WEBHOOKS_PER_MINUTE:
        raise Throttled("too many notifications; try again in a minute")


@dataclass(frozen=True)
class EdgeEvent:
    """One event of a verified delivery, as it is stored."""

    storefront: Storefront  # usually the URL's; a platform's event may route to a connected one
    event_id: str
    event_type: str
    body: str  # raw, as the worker will parse it


@dataclass(frozen=True)
class SignedRequest:
    """A delivery as a source would post it: its body and headers, signed (a connection's
    samples: the test event, the demo, the benchmarks)."""

    body: bytes
    headers: dict[str, str]


class WebhookAdapter:
    """What the edge and the worker need to know about one source. Subclasses set
    `kept_headers` and implement verify(), events() and process(); answer() is the JSON most
    sources expect."""

    # The headers worth keeping with the raw body (for replay and for ops).
    kept_headers: tuple[str, ...] = ("Content-Type", "User-Agent")
    # The exact body the source needs back to count a delivery as received (Adyen's
    # "[accepted]"); None for a source that reads only the status code.
    acknowledgement: str | None = None

    def verify(self, body: bytes, headers: Mapping[str, str], secrets: list[str]) -> Any:
        """The verified payload of `body`, signed with one of `secrets` (the storefront's
        active ones for this connection); VerificationError (a short reason, safe to return)
        refuses it."""
        raise NotImplementedError

    def events(self, storefront: Storefront, body: bytes, payload: Any) -> list[EdgeEvent]:
        """The events to store from a verified payload: empty for one the source sends but we
        do not read. May raise VerificationError too (a payload it cannot place)."""
        raise NotImplementedError

    def answer(self, stored: list[bool]) -> HttpResponse:
        """The response the source expects, given, for each event, whether it was new."""
        if self.acknowledgement is not None:
            return HttpResponse(self.acknowledgement, content_type="text/plain")
        if not stored:
            return JsonResponse({"received": True, "ignored": True})
        return JsonResponse({"received": True, "duplicate": not any(stored)})

    def process(self, *, event_id: int) -> str:
        """Apply one stored event (the worker's job, inbound.tasks.process_inbound_event):
        what became of it. The domain app's base adapter implements it."""
        raise NotImplementedError


@method_decorator(csrf_exempt, name="dispatch")
class WebhookView(View):
    """POST /webhooks/<source>/<storefront public id>/, for every connection."""

    http_method_names = ["post"]

    def post(self, request, source: str, public_id: str) -> HttpResponse:
        connection = connections.find(source)
        if connection is None:
            raise Http404("No such connection.")
        adapter = connection.adapter
        storefront = storefront_or_404(public_id)
        body = read_body(request)
        if isinstance(body, JsonResponse):
            return body
        secrets = edge_cache.active_secrets(storefront, connection.key)
        try:
            payload = adapter.verify(body, request.headers, secrets)
            events = adapter.events(storefront, body, payload)
        except VerificationError as error:
            return refuse(error.status, str(error))
        headers = kept_headers(request, adapter.kept_headers)
        stored = [
            services.store(
                storefront=event.storefront,
                provider=connection.key,
                event_id=event.event_id,
                event_type=event.event_type,
                body=event.body,
                headers=headers,
            )
            is not None
            for event in events
        ]
        return adapter.answer(stored)


# One view function, so that the URLconf and the benchmark (bench/webhook_ingest.py, which checks
# the URL resolves to this very function) name the same object.
webhook = WebhookView.as_view()
