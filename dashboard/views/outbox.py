from django.shortcuts import render
from django.urls import path

from dashboard.access import member_view


@member_view
def message_log(request):
    return render(request, "dashboard/placeholder.html", {"storefront": request.storefront})


@member_view
def message(request, pk):
    return render(request, "dashboard/placeholder.html", {"storefront": request.storefront})


urlpatterns = [
    path("messages/", message_log, name="messages"),
    # One message: its headers and a rendered preview (lost sales and shipments link here).
    path("messages/<int:pk>/", message, name="message"),
]
