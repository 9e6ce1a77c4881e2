from django.shortcuts import render
from django.urls import path

from dashboard.access import member_view


@member_view
def shipments(request):
    return render(request, "dashboard/placeholder.html", {"storefront": request.storefront})


urlpatterns = [path("shipments/", shipments, name="shipments")]
