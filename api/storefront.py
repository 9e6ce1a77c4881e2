"""/api/v1/storefront/: the storefront an API key acts for."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from api import docs
from storefront_settings.models import Storefront


class StorefrontSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)

    class Meta:
        model = Storefront
        fields = ["id", "name", "slug", "language", "time_zone", "currency", "shop_url"]
        read_only_fields = fields


# The example answer (/api/docs/): a real one, ids shortened.
STOREFRONT = {
    "id": "sf_c0984943ea2de9d0571eb64a",
    "name": "Maison Lune",
    "slug": "maison-lune",
    "language": "fr",
    "time_zone": "Europe/Paris",
    "currency": "EUR",
    "shop_url": "https://maison-lune.example",
}


class CurrentStorefrontView(APIView):
    """The storefront that the API key belongs to."""

    @extend_schema(
        tags=["Storefront"],
        summary="The key's storefront",
        description="The storefront the API key acts for: its public id, name, slug, "
        "language, time zone and currency (the currency its amounts are shown in). A cheap way "
        "to check that a key works.",
        responses={
            200: OpenApiResponse(
                StorefrontSerializer,
                description="The storefront.",
                examples=[docs.example("A storefront", STOREFRONT, status=200)],
            ),
            401: docs.UNAUTHORIZED,
        },
    )
    def get(self, request):
        return Response(StorefrontSerializer(request.user.storefront).data)
