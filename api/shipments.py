"""The REST API under /api/v1/: API-key auth, every query scoped to the key's storefront."""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from api import docs
from notifications.models import Message
from payments import services as payments
from payments.models import LostSale
from payments.reasons import FailureReason
from payments.selectors import messages_by_sale
from storefront_settings.models import Language, Storefront
from tracking import services as tracking
from tracking.carriers import Carrier, normalise_tracking_number
from tracking.filters import ShipmentFilter
from tracking.models import Checkpoint, Shipment


class StorefrontSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)

    class Meta:
        model = Storefront
        fields = ["id", "name", "slug", "language", "time_zone", "currency", "shop_url"]
        read_only_fields = fields


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
                examples=[docs.example("A storefront", docs.STOREFRONT, status=200)],
            ),
            401: docs.UNAUTHORIZED,
        },
    )
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
        description="Every email of this storefront, latest send time first: recovery emails "
        "and shipment updates to buyers, alerts and digests to the shop's members. `status` is "
        "where the message is in its life (scheduled, sending, then sent or failed; or "
        "cancelled, or suppressed: not sent to an address that bounced, complained or "
        "unsubscribed). `delivery` is the latest news from the email provider (delivered, "
        "opened, clicked, bounced…). `about` names what the message is about, for example a "
        "lost sale (`payments.lostsale`) or a shipment (`tracking.shipment`).",
        parameters=[
            OpenApiParameter(
                "kind",
                OpenApiTypes.STR,
                description="What the message is for: `payment_recovery`, `shipment_update`, "
                "`merchant_failed_payment_alert`, `merchant_daily_digest` or "
                "`member_invitation` (its link is never shown: it is the invitee's alone).",
            ),
            OpenApiParameter(
                "to", OpenApiTypes.EMAIL, description="The recipient's address, in any case."
            ),
        ],
        responses={
            200: OpenApiResponse(
                MessageSerializer(many=True),
                description="A page of messages.",
                examples=[docs.example("A recovery email sent", docs.MESSAGE, status=200)],
            ),
            400: docs.bad_filters(
                docs.example(
                    "An unknown status",
                    {
                        "status": [
                            "Select a valid choice. sendt is not one of the available choices."
                        ]
                    },
                    status=400,
                )
            ),
            401: docs.UNAUTHORIZED,
        },
    ),
    retrieve=extend_schema(
        summary="One message",
        description="One email of this storefront: to whom, from which template, when it was "
        "(or will be) sent, and what the email provider reported.",
        responses={
            200: OpenApiResponse(
                MessageSerializer,
                description="The message.",
                examples=[docs.example("A recovery email sent", docs.MESSAGE, status=200)],
            ),
            401: docs.UNAUTHORIZED,
            404: docs.not_found("Message"),
        },
    ),
)
@extend_schema(tags=["Messages"])
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
            by_sale = messages_by_sale(storefront=lost_sale.storefront, sale_ids=[lost_sale.pk])
        return MessageSummarySerializer(by_sale.get(str(lost_sale.pk), []), many=True).data


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


LOST_SALE_FIELDS = (
    "`reason` is the failure in Aftersale's words, whatever the provider; `codes` keeps the "
    "provider's raw codes. `amount` is in minor units of `currency`. `status` is open, "
    "recovered (a later payment for the order succeeded: `recovered_at`, `recovered_amount`, "
    "and `recovered_after_click` when the buyer had clicked a recovery email) or lost. "
    "`messages` are the emails about the sale, sent and scheduled."
)


@extend_schema_view(
    list=extend_schema(
        summary="Lost sales: failed payments and what became of them",
        description="The storefront's lost sales, latest failure first. A lost sale is one "
        "order (and buyer) whose payment failed, however many attempts failed. "
        + LOST_SALE_FIELDS
        + " Filters combine: `status`, `reason`, `failed_after` / `failed_before` (on the "
        "latest failure) and `min_amount`.",
        responses={
            200: OpenApiResponse(
                LostSaleSerializer(many=True),
                description="A page of lost sales.",
                examples=[
                    docs.example("An open sale with one email sent", docs.LOST_SALE, status=200),
                    docs.example("A sale recovered after a click", docs.RECOVERED_SALE, status=200),
                ],
            ),
            400: docs.bad_filters(
                docs.example(
                    "Bad filters",
                    {
                        "reason": [
                            "Select a valid choice. bad_luck is not one of the available choices."
                        ],
                        "failed_after": ["Enter a valid date/time."],
                        "min_amount": ["Ensure this value is greater than or equal to 0."],
                    },
                    status=400,
                )
            ),
            401: docs.UNAUTHORIZED,
        },
    ),
    retrieve=extend_schema(
        summary="One lost sale, with its messages",
        description="One lost sale of this storefront. " + LOST_SALE_FIELDS,
        responses={
            200: OpenApiResponse(
                LostSaleSerializer,
                description="The lost sale.",
                examples=[
                    docs.example("An open sale with one email sent", docs.LOST_SALE, status=200),
                    docs.example("A sale recovered after a click", docs.RECOVERED_SALE, status=200),
                ],
            ),
            401: docs.UNAUTHORIZED,
            404: docs.not_found("LostSale"),
        },
    ),
)
@extend_schema(tags=["Lost sales"])
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
            storefront=request.user.storefront, sale_ids=[sale.pk for sale in page]
        )
        serializer = self.get_serializer_class()(page, many=True, context=context)
        return self.get_paginated_response(serializer.data)

    @extend_schema(
        request=None,
        summary="Give up on an open sale: its emails stop",
        description="Marks an open sale lost and cancels its emails still scheduled; those "
        "already sent stay as they were. There is no body. A sale already recovered or lost "
        "is left alone and answered 409.",
        responses={
            200: OpenApiResponse(
                LostSaleSerializer,
                description="The sale, now lost, with its scheduled emails cancelled.",
                examples=[docs.example("Marked lost", docs.MARKED_LOST, status=200)],
            ),
            401: docs.UNAUTHORIZED,
            404: docs.not_found("LostSale"),
            409: OpenApiResponse(
                docs.ErrorSerializer,
                description="The sale is not open.",
                examples=[
                    docs.example(
                        "Already recovered",
                        {"detail": "Only an open sale can be marked lost; it is recovered."},
                        status=409,
                    )
                ],
            ),
        },
    )
    @action(detail=True, methods=["post"], url_path="mark-lost")
    def mark_lost(self, request, pk=None):
        lost_sale = self.get_object()
        if lost_sale.status != LostSale.Status.OPEN:
            return Response(
                {"detail": f"Only an open sale can be marked lost; it is {lost_sale.status}."},
                status=409,
            )
        payments.mark_lost(lost_sale=lost_sale, actor=request.auth)
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
        request = self.context["request"]
        return tracking.create_shipment(
            request.user.storefront,
            tracking.NewShipment(**{**validated, "items": tuple(validated.get("items", ()))}),
            actor=request.auth,  # the API key: the audit log names it
        )


class ShipmentCorrectionSerializer(serializers.ModelSerializer):
    carrier = serializers.ChoiceField(choices=Carrier.choices)
    language = serializers.ChoiceField(choices=Language.choices, required=False, allow_blank=True)

    class Meta:
        model = Shipment
        fields = list(tracking.CORRECTABLE)


SHIPMENT_FIELDS = (
    "`status` is the carrier's latest news in Aftersale's words (pending, info_received, "
    "in_transit, out_for_delivery, failed_attempt, available_for_pickup, delivered, exception, "
    "returned, expired); `checkpoints` are that news, latest first. `stalled`: no news for the "
    "storefront's number of days while not delivered; `late`: past `promised_delivery_date`. "
    "`tracking_url` is the buyer's tracking page (a random link, new after it is revoked on the "
    "shipment's dashboard page), `carrier_tracking_url` the carrier's."
)
EXISTS = OpenApiResponse(
    docs.ConflictSerializer,
    description="The storefront already has a shipment with this carrier and tracking number; "
    "`id` is that shipment's.",
    examples=[
        docs.example(
            "Already recorded", {"detail": "This shipment already exists.", "id": 7}, status=409
        )
    ],
)


@extend_schema_view(
    list=extend_schema(
        summary="Shipments, with their canonical status and flags",
        description="The storefront's shipments, latest recorded first. "
        + SHIPMENT_FIELDS
        + " Filters combine: `status`, `carrier`, `stalled`, `late`, `shipped_after` / "
        "`shipped_before`.",
        parameters=[
            OpenApiParameter(
                "stalled",
                OpenApiTypes.BOOL,
                description="`true`: only parcels with no news for the storefront's number of "
                "days; `false`: only the others.",
            ),
            OpenApiParameter(
                "late",
                OpenApiTypes.BOOL,
                description="`true`: only parcels past the delivery date promised to the "
                "buyer; `false`: only the others.",
            ),
            OpenApiParameter(
                "shipped_after",
                OpenApiTypes.DATETIME,
                description="Shipped at or after (ISO 8601).",
            ),
            OpenApiParameter(
                "shipped_before", OpenApiTypes.DATETIME, description="Shipped before (ISO 8601)."
            ),
        ],
        responses={
            200: OpenApiResponse(
                ShipmentSerializer(many=True),
                description="A page of shipments.",
                examples=[
                    docs.example("A parcel in transit", docs.SHIPMENT_IN_TRANSIT, status=200)
                ],
            ),
            400: docs.bad_filters(
                docs.example(
                    "An unknown status",
                    {
                        "status": [
                            "Select a valid choice. lost is not one of the available choices."
                        ]
                    },
                    status=400,
                )
            ),
            401: docs.UNAUTHORIZED,
        },
    ),
    retrieve=extend_schema(
        summary="One shipment, with its checkpoints and tracking link",
        description="One shipment of this storefront. " + SHIPMENT_FIELDS,
        responses={
            200: OpenApiResponse(
                ShipmentSerializer,
                description="The shipment.",
                examples=[
                    docs.example("A parcel in transit", docs.SHIPMENT_IN_TRANSIT, status=200)
                ],
            ),
            401: docs.UNAUTHORIZED,
            404: docs.not_found("Shipment"),
        },
    ),
    create=extend_schema(
        summary="Record a shipment: the buyer gets the shipped email with the tracking link",
        description="Tell Aftersale about a parcel the shop sent. The tracking number may be "
        "pasted with spaces or dashes (it is kept in upper case, letters and digits only). "
        "Without `carrier`, the carrier is guessed from the number's format, and the carrier's "
        "own news corrects a wrong guess. `shipped_at` defaults to now; `language` (the "
        "buyer's emails) to the storefront's. The buyer is emailed the tracking link when the "
        "storefront's shipment policy includes the shipped email. Safe to retry: a carrier "
        "and number the storefront already has is answered 409 with the existing id.",
        examples=[
            docs.example("A parcel whose carrier is guessed", docs.SHIPMENT_IN, request_only=True),
            docs.example(
                "A parcel with its carrier",
                {
                    "order_reference": "ML-10431",
                    "buyer_email": "jean@example.com",
                    "carrier": "dhl",
                    "tracking_number": "JJD0099999999",
                },
                request_only=True,
            ),
        ],
        responses={
            201: OpenApiResponse(
                ShipmentSerializer,
                description="Recorded; the shipped email is scheduled.",
                examples=[docs.example("Recorded", docs.SHIPMENT, status=201)],
            ),
            400: OpenApiResponse(
                docs.FIELD_ERRORS,
                description="Something to fix in the body; nothing was recorded.",
                examples=[
                    docs.example(
                        "Missing and bad fields",
                        {
                            "order_reference": ["This field is required."],
                            "buyer_email": ["Enter a valid email address."],
                            "tracking_number": ["A tracking number has 4 to 40 letters or digits."],
                        },
                        status=400,
                    )
                ],
            ),
            401: docs.UNAUTHORIZED,
            409: EXISTS,
        },
    ),
    partial_update=extend_schema(
        summary="Correct a shipment: carrier (a wrong guess), promised date, buyer details",
        description="Change what the shop told Aftersale: `carrier`, `promised_delivery_date`, "
        "`buyer_email`, `buyer_name`, `language`. Any other field is refused (400) and nothing "
        "changes. A carrier that would make this shipment a twin of another (same carrier and "
        "number) is 409 with the other's id.",
        request=ShipmentCorrectionSerializer,
        examples=[
            docs.example("Correct the carrier", {"carrier": "dhl"}, request_only=True),
            docs.example(
                "A new promised date", {"promised_delivery_date": "2026-11-30"}, request_only=True
            ),
        ],
        responses={
            200: OpenApiResponse(
                ShipmentSerializer,
                description="The corrected shipment.",
                examples=[docs.example("Carrier corrected", docs.SHIPMENT_CORRECTED, status=200)],
            ),
            400: OpenApiResponse(
                docs.FIELD_ERRORS,
                description="A field that cannot be changed, or a bad value; nothing changed.",
                examples=[
                    docs.example(
                        "A field that cannot be changed",
                        {"status": ["This field cannot be changed."]},
                        status=400,
                    ),
                    docs.example(
                        "An unknown carrier",
                        {"carrier": ['"pigeon" is not a valid choice.']},
                        status=400,
                    ),
                ],
            ),
            401: docs.UNAUTHORIZED,
            404: docs.not_found("Shipment"),
            409: OpenApiResponse(
                docs.ConflictSerializer,
                description="Another shipment of the storefront has this carrier and number; "
                "`id` is that one's.",
                examples=[
                    docs.example(
                        "A twin",
                        {"detail": "Another shipment has this carrier and number.", "id": 9},
                        status=409,
                    )
                ],
            ),
        },
    ),
)
@extend_schema(tags=["Shipments"])
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
            shipment = tracking.correct_shipment(
                shipment, correction.validated_data, actor=request.auth
            )
        except tracking.ShipmentExists as exists:
            return Response(
                {
                    "detail": "Another shipment has this carrier and number.",
                    "id": exists.shipment.pk,
                },
                status=409,
            )
        return Response(self.get_serializer(shipment).data)
