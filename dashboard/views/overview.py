from django.shortcuts import render
from django.urls import path

from dashboard.access import member_view


@member_view
def overview(request):
    return render(request, "dashboard/overview.html", {"storefront": request.storefront})


urlpatterns = [path("", overview, name="storefront")]
