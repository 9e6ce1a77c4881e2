"""The buyer's tracking page (/t/<token>/) and the lookup form (/track/<storefront slug>/)."""

from django import forms
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django_ratelimit.core import is_ratelimited

from storefront_settings.models import Storefront
from tracking import page_cache
from tracking.models import Shipment
from tracking.services import links, milestones

LOOKUP_RATE = "10/m"


def page(request, token):
    version = links.page_version(token)
    if version is None:
        # Altered, guessed, revoked or another storefront's: all the same 404, never a cached
        # page (the token is looked up on every request; tracking.page_cache).
        raise Http404("No such shipment.")
    nonce = str(request.csp_nonce)
    key = page_cache.key(version)
    content = page_cache.get(key, nonce)
    if content is not None:
        response = HttpResponse(content)
    else:
        shipment = (
            Shipment.objects.for_storefront(version.storefront_id)
            .select_related("storefront")
            .filter(pk=version.shipment_id)
            .first()
        )
        if shipment is None:
            raise Http404("No such shipment.")  # deleted a moment ago
        # The buyer reads times in the shop's time zone, in their own language.
        with translation.override(shipment.locale), timezone.override(shipment.storefront.zone):
            response = render(
                request,
                "tracking/page.html",
                {
                    "storefront": shipment.storefront,
                    "shipment": shipment,
                    "carrier_name": milestones.carrier_name(shipment.carrier),
                    "checkpoints": shipment.checkpoints.order_by("-occurred_at", "-pk")[:50],
                },
            )
        page_cache.put(key, response.content, nonce)
    # Kept by no one, the buyer's browser included: the page shows an order and where its
    # parcel is, and a revoked link must stop showing it at once (the server's cache is keyed
    # by what the page shows, so it needs no help from the browser's).
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


class LookupForm(forms.Form):
    order_reference = forms.CharField(label=_("Order number"), max_length=200)
    email = forms.EmailField(label=_("Email used for the order"))


def lookup(request, slug):
    storefront = get_object_or_404(Storefront, slug=slug)
    form = LookupForm(request.POST or None)
    not_found = False
    status = 200
    if request.method == "POST":
        # Per address and per shop, so the form cannot be used to test emails against orders.
        if is_ratelimited(
            request, group=f"tracking.lookup:{slug}", key="ip", rate=LOOKUP_RATE, increment=True
        ):
            status, not_found = 429, False
            form.add_error(None, _("Too many attempts. Please wait a minute and try again."))
        elif form.is_valid():
            shipment = (
                Shipment.objects.for_storefront(storefront)
                .filter(
                    order_reference=form.cleaned_data["order_reference"].strip(),
                    buyer_email__iexact=form.cleaned_data["email"].strip(),
                )
                .order_by("-created_at")
                .first()
            )
            if shipment is not None:
                return redirect("tracking:page", token=shipment.page_token)
            # The same answer for "no such order" and "wrong email".
            not_found = True
        else:
            status = 400  # the form explains what to fix
    with translation.override(storefront.language):
        return render(
            request,
            "tracking/lookup.html",
            {"storefront": storefront, "form": form, "not_found": not_found},
            status=status,
        )
