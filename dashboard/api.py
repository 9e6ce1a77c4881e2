from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from storefront_settings.models import Storefront


class StorefrontSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)

    class Meta:
        model = Storefront
        fields = ["id", "name", "slug", "language", "time_zone", "currency", "shop_url"]
        read_only_fields = fields


class CurrentStorefrontView(APIView):
    """The storefront that the API key belongs to."""

    @extend_schema(responses=StorefrontSerializer)
    def get(self, request):
        return Response(StorefrontSerializer(request.user.storefront).data)
