"""The buyer's unsubscribe page: GET asks, POST does (RFC 8058 one-click posts here too)."""

from django.core import signing
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from notifications.models import Audience, Suppression
from notifications.rendering import read_unsubscribe_token
from notifications.services import suppressions
from storefront_settings.models import Storefront


# Mail clients post the one-click request with no cookie and no CSRF token (RFC 8058 §3.1);
# the signed token in the URL is what authorises it.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    try:
        payload = read_unsubscribe_token(token)
        storefront = Storefront.objects.get(pk=payload["s"])
    except (signing.BadSignature, KeyError, TypeError, Storefront.DoesNotExist):
        return render(request, "notifications/unsubscribe_invalid.html", status=400)

    email, audience = payload["e"], payload["a"]
    with translation.override(payload.get("l") or storefront.language):
        if request.method == "POST":
            if audience == Audience.MERCHANT:
                suppressions.opt_out_member_alerts(storefront, email)
            else:
                suppressions.suppress(storefront, email, Suppression.Reason.UNSUBSCRIBED)
            done = True
        else:
            done = audience == Audience.BUYER and (
                Suppression.objects.for_storefront(storefront).filter(email=email).exists()
            )
        response = render(
            request,
            "notifications/unsubscribe.html",
            {"storefront": storefront, "email": email, "audience": audience, "done": done},
        )
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
