from django.urls import path

from tracking import views, webhooks

app_name = "tracking"

urlpatterns = [
    path("webhooks/easypost/<str:public_id>/", webhooks.easypost_webhook, name="easypost-webhook"),
    path(
        "webhooks/aftership/<str:public_id>/", webhooks.aftership_webhook, name="aftership-webhook"
    ),
    path("webhooks/generic/<str:public_id>/", webhooks.generic_webhook, name="generic-webhook"),
    path("t/<str:token>/", views.page, name="page"),
    path("track/<slug:slug>/", views.lookup, name="lookup"),
]
