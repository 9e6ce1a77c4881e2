from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path

from storefront_settings.selectors import storefronts_for_user


@login_required
def home(request):
    storefronts = list(storefronts_for_user(user=request.user))
    if len(storefronts) == 1:
        return redirect("dashboard:storefront", slug=storefronts[0].slug)
    return render(request, "dashboard/home.html", {"storefronts": storefronts})


urlpatterns = [path("", home, name="home")]
