"""What every webhook edge does before it stores an event: find the storefront in the URL,
read a size-limited body, refuse with a short reason."""

from django.http import Http404, JsonResponse

from storefront_settings.models import Storefront

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
