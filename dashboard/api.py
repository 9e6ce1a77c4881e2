"""The REST API under /api/v1/: API-key auth, every query scoped to the key's storefront."""

import django_filters
from django.contrib.contenttypes.models import ContentType
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications.models import Message
from payments import services as payments
from payments.models import LostSale
from payments.reasons import FailureReason
from storefront_settings.models import Language, Storefront
from tracking import services as tracking
from tracking.carriers import Carrier, normalise_tracking_number
from tracking.models import Checkpoint, Shipment
from tracking.statuses import ShipmentStatus


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
                    "template": "payment_recovery_bank_declined",
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


class MessageSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = ["id", "kind", "template", "to", "status", "send_at", "sent_at"]
        read_only_fields = fields


class LostSaleSerializer(serializers.ModelSerializer):
    messages = serializers.SerializerMethodField()

    class Meta:
        model = LostSale
        fields = [
            "id",
            "order_reference",
            "amount",
            "currency",
            "buyer_email",
            "buyer_name",
            "buyer_phone",
            "reason",
            "provider",
            "codes",
            "status",
            "attempts",
            "created_at",
            "first_failed_at",
            "last_failed_at",
            "recovered_at",
            "recovered_amount",
            "recovered_after_click",
            "messages",
        ]
        read_only_fields = fields

    @extend_schema_field(MessageSummarySerializer(many=True))
    def get_messages(self, lost_sale):
        by_sale = self.context.get("messages_by_sale")
        if by_sale is None:  # a single sale
            by_sale = messages_by_sale(lost_sale.storefront, [lost_sale.pk])
        return MessageSummarySerializer(by_sale.get(str(lost_sale.pk), []), many=True).data


def messages_by_sale(storefront, sale_ids) -> dict[str, list[Message]]:
    """The messages about each of these lost sales, in one query."""
    content_type = ContentType.objects.get_for_model(LostSale)
    found: dict[str, list[Message]] = {}
    for message in (
        Message.objects.for_storefront(storefront)
        .filter(about_type=content_type, about_id__in=[str(pk) for pk in sale_ids])
        .order_by("send_at", "pk")
    ):
        found.setdefault(message.about_id, []).append(message)
    return found


class LostSaleFilter(django_filters.FilterSet):
    reason = django_filters.ChoiceFilter(choices=FailureReason.choices)
    failed_after = django_filters.IsoDateTimeFilter(
        field_name="last_failed_at", lookup_expr="gte", label="Failed at or after (ISO 8601)"
    )
    failed_before = django_filters.IsoDateTimeFilter(
        field_name="last_failed_at", lookup_expr="lt", label="Failed before (ISO 8601)"
    )
    min_amount = django_filters.NumberFilter(
        field_name="amount", lookup_expr="gte", label="Minimum amount, in minor units", min_value=0
    )

    class Meta:
        model = LostSale
        fields = ["status", "reason", "failed_after", "failed_before", "min_amount"]


@extend_schema_view(
    list=extend_schema(summary="Lost sales: failed payments and what became of them"),
    retrieve=extend_schema(summary="One lost sale, with its messages"),
)
class LostSaleViewSet(
    StorefrontScopedViewSet, viewsets.mixins.ListModelMixin, viewsets.mixins.RetrieveModelMixin
):
    model = LostSale
    serializer_class = LostSaleSerializer
    filterset_class = LostSaleFilter

    def get_queryset(self):
        return super().get_queryset().order_by("-last_failed_at", "-id")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        context = self.get_serializer_context()
        context["messages_by_sale"] = messages_by_sale(
            request.user.storefront, [sale.pk for sale in page]
        )
        serializer = self.get_serializer_class()(page, many=True, context=context)
        return self.get_paginated_response(serializer.data)

    @extend_schema(request=None, summary="Give up on an open sale: its emails stop")
    @action(detail=True, methods=["post"], url_path="mark-lost")
    def mark_lost(self, request, pk=None):
        lost_sale = self.get_object()
        if lost_sale.status != LostSale.Status.OPEN:
            return Response(
                {"detail": f"Only an open sale can be marked lost; it is {lost_sale.status}."},
                status=409,
            )
        payments.mark_lost(lost_sale=lost_sale)
        return Response(self.get_serializer(lost_sale).data)


class CheckpointSerializer(serializers.ModelSerializer):
    time = serializers.DateTimeField(source="occurred_at")

    class Meta:
        model = Checkpoint
        fields = ["time", "status", "description", "location"]
        read_only_fields = fields


class ShipmentSerializer(serializers.ModelSerializer):
    carrier = serializers.ChoiceField(choices=Carrier.choices, required=False, allow_blank=True)
    language = serializers.ChoiceField(choices=Language.choices, required=False, allow_blank=True)
    buyer_email = serializers.EmailField()
    items = serializers.ListField(child=serializers.JSONField(), required=False)
    stalled = serializers.BooleanField(read_only=True)
    late = serializers.BooleanField(read_only=True)
    tracking_url = serializers.SerializerMethodField()
    checkpoints = CheckpointSerializer(many=True, read_only=True)

    class Meta:
        model = Shipment
        fields = [
            "id",
            "order_reference",
            "buyer_email",
            "buyer_name",
            "language",
            "carrier",
            "tracking_number",
            "shipped_at",
            "promised_delivery_date",
            "items",
            "status",
            "estimated_delivery_date",
            "stalled",
            "late",
            "checkpoints",
            "tracking_url",
            "carrier_tracking_url",
        ]
        read_only_fields = [
            "id",
            "status",
            "estimated_delivery_date",
            "stalled",
            "late",
            "checkpoints",
            "tracking_url",
            "carrier_tracking_url",
        ]
        extra_kwargs = {"order_reference": {"required": True, "allow_blank": False}}

    def get_tracking_url(self, shipment) -> str:
        return tracking.tracking_page_url(shipment)

    def validate_tracking_number(self, value):
        if not 4 <= len(normalise_tracking_number(value)) <= 40:
            raise serializers.ValidationError("A tracking number has 4 to 40 letters or digits.")
        return value

    def create(self, validated):
        storefront = self.context["request"].user.storefront
        return tracking.create_shipment(
            storefront,
            tracking.NewShipment(**{**validated, "items": tuple(validated.get("items", ()))}),
        )


class ShipmentCorrectionSerializer(serializers.ModelSerializer):
    carrier = serializers.ChoiceField(choices=Carrier.choices)
    language = serializers.ChoiceField(choices=Language.choices, required=False, allow_blank=True)

    class Meta:
        model = Shipment
        fields = list(tracking.CORRECTABLE)


class ShipmentFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ShipmentStatus.choices)
    carrier = django_filters.ChoiceFilter(choices=Carrier.choices)
    stalled = django_filters.BooleanFilter(
        field_name="stalled_since", lookup_expr="isnull", exclude=True
    )
    late = django_filters.BooleanFilter(field_name="late_since", lookup_expr="isnull", exclude=True)
    shipped_after = django_filters.IsoDateTimeFilter(field_name="shipped_at", lookup_expr="gte")
    shipped_before = django_filters.IsoDateTimeFilter(field_name="shipped_at", lookup_expr="lt")

    class Meta:
        model = Shipment
        fields = ["status", "carrier", "stalled", "late", "shipped_after", "shipped_before"]


@extend_schema_view(
    list=extend_schema(summary="Shipments, with their canonical status and flags"),
    retrieve=extend_schema(summary="One shipment, with its checkpoints and tracking link"),
    create=extend_schema(
        summary="Record a shipment: the buyer gets the shipped email with the tracking link",
        responses={201: ShipmentSerializer, 409: None},
    ),
    partial_update=extend_schema(
        summary="Correct a shipment: carrier (a wrong guess), promised date, buyer details",
        request=ShipmentCorrectionSerializer,
        responses={200: ShipmentSerializer, 409: None},
    ),
)
class ShipmentViewSet(
    StorefrontScopedViewSet,
    viewsets.mixins.ListModelMixin,
    viewsets.mixins.RetrieveModelMixin,
    viewsets.mixins.CreateModelMixin,
    viewsets.mixins.UpdateModelMixin,
):
    http_method_names = ["get", "post", "patch", "head", "options"]
    model = Shipment
    serializer_class = ShipmentSerializer
    filterset_class = ShipmentFilter

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("storefront")
            .prefetch_related("checkpoints")
            .order_by("-created_at", "-id")
        )

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            shipment = serializer.save()
        except tracking.ShipmentExists as exists:
            return Response(
                {"detail": "This shipment already exists.", "id": exists.shipment.pk}, status=409
            )
        return Response(self.get_serializer(shipment).data, status=201)

    def partial_update(self, request, *args, **kwargs):
        shipment = self.get_object()
        correction = ShipmentCorrectionSerializer(shipment, data=request.data, partial=True)
        correction.is_valid(raise_exception=True)
        unknown = set(request.data) - set(tracking.CORRECTABLE)
        if unknown:
            return Response(
                {field: ["This field cannot be changed."] for field in sorted(unknown)},
                status=400,
            )
        try:
            shipment = tracking.correct_shipment(shipment, correction.validated_data)
        except tracking.ShipmentExists as exists:
            return Response(
                {
                    "detail": "Another shipment has this carrier and number.",
                    "id": exists.shipment.pk,
                },
                status=409,
            )
        return Response(self.get_serializer(shipment).data)
