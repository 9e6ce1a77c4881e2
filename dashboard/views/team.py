from django.shortcuts import render
from django.urls import path

from dashboard.access import member_view


@member_view
def placeholder(request):
    return render(request, "dashboard/placeholder.html", {"storefront": request.storefront})


urlpatterns = [
    path("settings/providers/", placeholder, name="settings-providers"),
    path("settings/api-keys/", placeholder, name="settings-api-keys"),
    path("settings/members/", placeholder, name="settings-members"),
]
