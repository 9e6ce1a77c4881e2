"""The REST API under /api/v1/: API-key auth, every query scoped to the key's storefront."""

import django_filters
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications.models import Message
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


class StorefrontScopedViewSet(viewsets.GenericViewSet):
    """Owns the queryset: only the requesting key's storefront, so another tenant's id is 404."""

    model = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no key
            return self.model.objects.none()
        return self.model.objects.for_storefront(self.request.user.storefront)


class AboutSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="app_label.model, e.g. payments.lostsale")
    id = serializers.CharField()


class MessageSerializer(serializers.ModelSerializer):
    about = serializers.SerializerMethodField(help_text="What the message is about, if anything.")

    class Meta:
        model = Message
        fields = [
            "id",
            "kind",
            "template",
            "to",
            "locale",
            "status",
            "delivery",
            "send_at",
            "sent_at",
            "subject",
            "about",
        ]
        read_only_fields = fields

    @extend_schema_field(AboutSerializer(allow_null=True))
    def get_about(self, message):
        if message.about_type_id is None:
            return None
        about_type = message.about_type
        return {"type": f"{about_type.app_label}.{about_type.model}", "id": message.about_id}


class MessageFilter(django_filters.FilterSet):
    to = django_filters.CharFilter(field_name="to", lookup_expr="iexact", label="Recipient")

    class Meta:
        model = Message
        fields = ["kind", "status", "delivery", "to"]


@extend_schema_view(
    list=extend_schema(
        summary="Messages sent or scheduled",
        examples=[
            OpenApiExample(
                "A recovery email sent",
                value={
                    "id": 42,
                    "kind": "payment_recovery",
                    "template": "payment_recovery_card_declined",
                    "to": "buyer@example.com",
                    "locale": "fr",
                    "status": "sent",
                    "delivery": "delivered",
                    "send_at": "2026-11-25T10:00:00Z",
                    "sent_at": "2026-11-25T10:00:03Z",
                    "subject": "Votre paiement n'a pas abouti",
                    "about": {"type": "payments.lostsale", "id": "17"},
                },
                response_only=True,
            )
        ],
    ),
    retrieve=extend_schema(summary="One message"),
)
class MessageViewSet(
    StorefrontScopedViewSet, viewsets.mixins.ListModelMixin, viewsets.mixins.RetrieveModelMixin
):
    model = Message
    serializer_class = MessageSerializer
    filterset_class = MessageFilter

    def get_queryset(self):
        return super().get_queryset().select_related("about_type").order_by("-send_at", "-id")
