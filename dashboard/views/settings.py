from django.shortcuts import render
from django.urls import path

from dashboard.access import member_view


@member_view
def placeholder(request):
    return render(request, "dashboard/placeholder.html", {"storefront": request.storefront})


urlpatterns = [
    path("settings/", placeholder, name="settings"),
    path("settings/brand/", placeholder, name="settings-brand"),
    path("settings/recovery/", placeholder, name="settings-recovery"),
    path("settings/shipments/", placeholder, name="settings-shipments"),
    path("settings/sending/", placeholder, name="settings-sending"),
    path("settings/alerts/", placeholder, name="settings-alerts"),
    path("settings/audit/", placeholder, name="settings-audit"),
]
