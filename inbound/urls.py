from django.urls import path

from inbound import edge

app_name = "inbound"

urlpatterns = [
    # Every connection's webhooks (storefront_settings.connections): an unknown source is a 404.
    path("webhooks/<slug:source>/<str:public_id>/", edge.webhook, name="webhook"),
]
