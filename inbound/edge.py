"""The one webhook edge every inbound source goes through: find the storefront in the URL, read
a size-limited body, have the source's adapter verify it against the storefront's secrets and
name the events in it, store each raw, answer as the source expects.

Nothing is processed here (a worker does that from the stored row), so the source gets its 2xx
in milliseconds, and a bad request stores nothing. No transaction wraps the view: each stored
event is committed before the response; dispatch() hands it to a worker.

A source is one adapter (a WebhookAdapter, next to the source's parsing code) and one subclass
of WebhookView that names it, as django-anymail's AnymailBaseWebhookView subclasses name their
ESP's validation and parsing."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from inbound import services
from inbound.errors import VerificationError
from storefront_settings.models import Storefront
from storefront_settings.selectors import active_provider_secrets

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
    storefront = Storefront.objects.filter(public_id=public_id).first()
    if storefront is None:
        raise Http404("No such storefront.")
    return storefront


def kept_headers(request, names) -> dict:
    """The headers worth keeping with the raw body (for replay and for ops)."""
    return {name: request.headers[name] for name in names if name in request.headers}


@dataclass(frozen=True)
class EdgeEvent:
    """One event of a verified delivery, as it is stored."""

    storefront: Storefront  # usually the URL's; Stripe Connect may route to a connected one
    event_id: str
    event_type: str
    body: str  # raw, as the worker will parse it


class WebhookAdapter:
    """What the edge needs to know about one source. Subclasses set `provider` (a Provider
    value: the secrets checked and the provider stored) and `kept_headers`, and implement
    verify() and events(); answer() is the JSON most sources expect."""

    provider: str
    # The headers worth keeping with the raw body (for replay and for ops).
    kept_headers: tuple[str, ...] = ("Content-Type", "User-Agent")

    def verify(self, body: bytes, headers: Mapping[str, str], secrets: list[str]) -> Any:
        """The verified payload of `body`, signed with one of `secrets` (the storefront's
        active ones for this provider); VerificationError (a short reason, safe to return)
        refuses it."""
        raise NotImplementedError

    def events(self, storefront: Storefront, body: bytes, payload: Any) -> list[EdgeEvent]:
        """The events to store from a verified payload: empty for one the source sends but we
        do not read. May raise VerificationError too (a payload it cannot place)."""
        raise NotImplementedError

    def answer(self, stored: list[bool]) -> HttpResponse:
        """The response the source expects, given, for each event, whether it was new."""
        if not stored:
            return JsonResponse({"received": True, "ignored": True})
        return JsonResponse({"received": True, "duplicate": not any(stored)})


@method_decorator(csrf_exempt, name="dispatch")
class WebhookView(View):
    """POST /webhooks/<source>/<storefront public id>/: each source subclasses it and names its
    adapter."""

    http_method_names = ["post"]
    adapter: WebhookAdapter

    def post(self, request, public_id: str) -> HttpResponse:
        adapter = self.adapter
        storefront = storefront_or_404(public_id)
        body = read_body(request)
        if isinstance(body, JsonResponse):
            return body
        secrets = active_provider_secrets(storefront=storefront, provider=adapter.provider)
        try:
            payload = adapter.verify(body, request.headers, secrets)
            events = adapter.events(storefront, body, payload)
        except VerificationError as error:
            return refuse(400, str(error))
        headers = kept_headers(request, adapter.kept_headers)
        stored = [
            services.store(
                storefront=event.storefront,
                provider=adapter.provider,
                event_id=event.event_id,
                event_type=event.event_type,
                body=event.body,
                headers=headers,
            )
            is not None
            for event in events
        ]
        return adapter.answer(stored)
