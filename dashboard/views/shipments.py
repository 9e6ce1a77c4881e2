from django.shortcuts import render
from django.urls import path

from dashboard.access import member_view


@member_view
def shipments(request):
    return render(request, "dashboard/placeholder.html", {"storefront": request.storefront})


@member_view
def shipment(request, pk):
    return render(request, "dashboard/placeholder.html", {"storefront": request.storefront})


urlpatterns = [
    path("shipments/", shipments, name="shipments"),
    path("shipments/<int:pk>/", shipment, name="shipment"),
]
