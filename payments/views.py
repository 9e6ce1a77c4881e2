"""The buyer's recovery link: record the click, then send them where they can pay again."""

from django.core import signing
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from payments import links
from payments.models import LostSale
from payments.services import recovery


@never_cache
def retry(request, token):
    try:
        payload = links.read(token)
        lost_sale = (
            LostSale.objects.for_storefront(payload["s"])
            .select_related("storefront")
            .get(pk=payload["l"])
        )
    except (signing.BadSignature, KeyError, TypeError, LostSale.DoesNotExist):
        return render(request, "link_invalid.html", status=400)
    recovery.record_click(lost_sale)
    target = recovery.retry_target(lost_sale)
    if not target:
        # The shop gave us nowhere to send the buyer: show how to reach it instead.
        return render(request, "payments/retry_contact.html", {"storefront": lost_sale.storefront})
    response = HttpResponseRedirect(target)
    response["Referrer-Policy"] = "no-referrer"
    return response
