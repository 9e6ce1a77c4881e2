from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from storefront_settings.selectors import get_storefront_for_user, storefronts_for_user


@login_required
def home(request):
    storefronts = list(storefronts_for_user(user=request.user))
    if len(storefronts) == 1:
        return redirect("dashboard:storefront", slug=storefronts[0].slug)
    return render(request, "dashboard/home.html", {"storefronts": storefronts})


@login_required
def storefront(request, slug):
    current = get_storefront_for_user(user=request.user, slug=slug)
    return render(
        request,
        "dashboard/storefront.html",
        {"storefront": current, "storefronts": storefronts_for_user(user=request.user)},
    )
