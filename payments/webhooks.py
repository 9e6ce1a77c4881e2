"""The HTTP edge for payment providers: check size and signature, store raw, acknowledge.

Nothing is processed here (the worker does that from the stored row), so the provider gets its
2xx in milliseconds, and a bad request stores nothing. No transaction wraps the view: the stored
event is committed before the response, and its processing is enqueued on commit."""

import json

from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from inbound import services as inbound
from payments.providers import VerificationError, adyen, stripe
from storefront_settings.models import Provider, Storefront
from storefront_settings.selectors import active_provider_secrets

MAX_BODY = 1024 * 1024
# The headers worth keeping with the raw body (for replay and for ops).
KEPT_HEADERS = ("Content-Type", "User-Agent", "Stripe-Signature")


def _refuse(status: int, reason: str) -> JsonResponse:
    return JsonResponse({"error": reason}, status=status)


def _read_body(request) -> bytes | JsonResponse:
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit():
        return _refuse(400, "bad Content-Length")
    if int(declared) > MAX_BODY:
        return _refuse(413, "body larger than 1 MB")
    body = request.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        return _refuse(413, "body larger than 1 MB")
    return body


def _storefront(public_id: str) -> Storefront:
    storefront = Storefront.objects.filter(public_id=public_id).first()
    if storefront is None:
        raise Http404("No such storefront.")
    return storefront


def _kept_headers(request) -> dict:
    return {name: request.headers[name] for name in KEPT_HEADERS if name in request.headers}


@csrf_exempt
@require_POST
def stripe_webhook(request, public_id):
    storefront = _storefront(public_id)
    body = _read_body(request)
    if isinstance(body, JsonResponse):
        return body
    try:
        event = stripe.verify(
            body,
            request.headers.get("Stripe-Signature"),
            active_provider_secrets(storefront=storefront, provider=Provider.STRIPE),
        )
        text = body.decode("utf-8")
    except VerificationError as error:
        return _refuse(400, str(error))
    except UnicodeDecodeError:
        return _refuse(400, "body is not UTF-8")
    target = _connect_target(storefront, event.get("account"))
    stored = inbound.store(
        storefront=target,
        provider=Provider.STRIPE,
        event_id=str(event["id"]),
        event_type=str(event["type"]),
        body=text,
        headers=_kept_headers(request),
    )
    return JsonResponse({"received": True, "duplicate": stored is None})


def _connect_target(storefront: Storefront, account) -> Storefront:
    """A Stripe Connect event goes to the storefront that owns the connected account, but only
    one that receives its events through this endpoint: a tenant can sign anything with its own
    secret, so the account id alone must not reach another tenant."""
    if not account or account == storefront.stripe_account_id:
        return storefront
    connected = storefront.connected_storefronts.filter(stripe_account_id=account).first()
    return connected or storefront


@csrf_exempt
@require_POST
def adyen_webhook(request, public_id):
    storefront = _storefront(public_id)
    body = _read_body(request)
    if isinstance(body, JsonResponse):
        return body
    try:
        items = adyen.verify(
            body, active_provider_secrets(storefront=storefront, provider=Provider.ADYEN)
        )
    except VerificationError as error:
        return _refuse(400, str(error))
    # Adyen batches items in one request: each is stored as its own event.
    for item in items:
        inbound.store(
            storefront=storefront,
            provider=Provider.ADYEN,
            event_id=adyen.event_id(item),
            event_type=str(item.get("eventCode", "")),
            body=json.dumps(item),
            headers=_kept_headers(request),
        )
    return HttpResponse(adyen.ACCEPTED_RESPONSE, content_type="text/plain")
