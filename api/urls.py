"""/api/v1/ (config/urls.py includes it there, without a namespace: the URL names are the
router's, e.g. "shipment-detail", and "current-storefront")."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from api.lost_sales import LostSaleViewSet
from api.messages import MessageViewSet
from api.shipments import ShipmentViewSet
from api.storefront import CurrentStorefrontView

router = SimpleRouter()
router.register("messages", MessageViewSet, basename="message")
router.register("lost-sales", LostSaleViewSet, basename="lost-sale")
router.register("shipments", ShipmentViewSet, basename="shipment")

urlpatterns = [
    path("storefront/", CurrentStorefrontView.as_view(), name="current-storefront"),
    *router.urls,
]
