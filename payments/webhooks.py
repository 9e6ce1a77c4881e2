"""The HTTP edge for payment providers: check size and signature, store raw, acknowledge.

Nothing is processed here (the worker does that from the stored row), so the provider gets its
2xx in milliseconds, and a bad request stores nothing. No transaction wraps the view: the stored
event is committed before the response; inbound's dispatcher hands it to a worker."""

import json

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from inbound import services as inbound
from inbound.edge import kept_headers, read_body, refuse, storefront_or_404
from payments.providers import VerificationError, adyen, stripe
from storefront_settings.models import Provider, Storefront
from storefront_settings.selectors import active_provider_secrets

# The headers worth keeping with the raw body (for replay and for ops).
KEPT_HEADERS = ("Content-Type", "User-Agent", "Stripe-Signature")


@csrf_exempt
@require_POST
def stripe_webhook(request, public_id):
    storefront = storefront_or_404(public_id)
    body = read_body(request)
    if isinstance(body, JsonResponse):
        return body
    try:
        event = stripe.verify(
            body,
            request.headers.get("Stripe-Signature"),
            active_provider_secrets(storefront=storefront, provider=Provider.STRIPE),
        )
    except VerificationError as error:
        return refuse(400, str(error))
    target = _connect_target(storefront, event.get("account"))
    stored = inbound.store(
        storefront=target,
        provider=Provider.STRIPE,
        event_id=str(event["id"]),
        event_type=str(event["type"]),
        body=body.decode("utf-8"),  # verify() refused anything that is not UTF-8
        headers=kept_headers(request, KEPT_HEADERS),
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
    storefront = storefront_or_404(public_id)
    body = read_body(request)
    if isinstance(body, JsonResponse):
        return body
    try:
        items = adyen.verify(
            body, active_provider_secrets(storefront=storefront, provider=Provider.ADYEN)
        )
    except VerificationError as error:
        return refuse(400, str(error))
    # Adyen batches items in one request: each is stored as its own event.
    for item in items:
        inbound.store(
            storefront=storefront,
            provider=Provider.ADYEN,
            event_id=adyen.event_id(item),
            event_type=str(item.get("eventCode", "")),
            body=json.dumps(item),
            headers=kept_headers(request, KEPT_HEADERS),
        )
    return HttpResponse(adyen.ACCEPTED_RESPONSE, content_type="text/plain")
