"""The HTTP edge for tracking sources (EasyPost, AfterShip, the generic format): verify, store
raw once, acknowledge; the worker applies the update from the stored row. Same discipline as
the payment webhooks."""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from inbound import services as inbound
from inbound.edge import kept_headers, read_body, refuse, storefront_or_404
from inbound.errors import VerificationError
from storefront_settings.models import Provider
from storefront_settings.selectors import active_provider_secrets
from tracking.providers import aftership, easypost, generic

KEPT_HEADERS = (
    "Content-Type",
    "User-Agent",
    "X-Hmac-Signature",
    "aftership-hmac-sha256",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
)


def _verify(provider: str, request, body: bytes, secrets: list[str]) -> dict:
    if provider == Provider.EASYPOST:
        return easypost.verify(body, request.headers.get("X-Hmac-Signature"), secrets)
    if provider == Provider.AFTERSHIP:
        return aftership.verify(body, request.headers.get("aftership-hmac-sha256"), secrets)
    headers = {name.lower(): value for name, value in request.headers.items()}
    return generic.verify(body, headers, secrets)


PARSERS = {
    Provider.EASYPOST: easypost.parse,
    Provider.AFTERSHIP: aftership.parse,
    Provider.GENERIC: generic.parse,
}


def _webhook(provider: str):
    @csrf_exempt
    @require_POST
    def view(request, public_id):
        storefront = storefront_or_404(public_id)
        body = read_body(request)
        if isinstance(body, JsonResponse):
            return body
        secrets = active_provider_secrets(storefront=storefront, provider=provider)
        try:
            signal = PARSERS[provider](_verify(provider, request, body, secrets))
        except VerificationError as error:
            return refuse(400, str(error))
        if signal is None:
            return JsonResponse({"received": True, "ignored": True})
        stored = inbound.store(
            storefront=storefront,
            provider=provider,
            event_id=signal.event_id,
            event_type=signal.event_type,
            body=body.decode("utf-8"),  # verify() refused anything that is not UTF-8
            headers=kept_headers(request, KEPT_HEADERS),
        )
        return JsonResponse({"received": True, "duplicate": stored is None})

    view.__name__ = f"{provider}_webhook"
    return view


easypost_webhook = _webhook(Provider.EASYPOST)
aftership_webhook = _webhook(Provider.AFTERSHIP)
generic_webhook = _webhook(Provider.GENERIC)
