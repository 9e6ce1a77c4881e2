from django.shortcuts import render
from django.urls import path

from dashboard.access import member_view


@member_view
def message_log(request):
    return render(request, "dashboard/placeholder.html", {"storefront": request.storefront})


urlpatterns = [path("messages/", message_log, name="messages")]
