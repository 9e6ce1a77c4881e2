"""/api/v1/shipments/: the parcels followed for the shop; recording and correcting one."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from api import docs
from api.base import StorefrontScopedViewSet
from storefront_settings.models import Language
from tracking.carriers import Carrier, normalise_tracking_number
from tracking.filters import ShipmentFilter
from tracking.models import Checkpoint, Shipment
from tracking.services import links, shipments


class CheckpointSerializer(serializers.ModelSerializer):
    time = serializers.DateTimeField(source="occurred_at")

    class Meta:
        model = Checkpoint
        fields = ["time", "status", "description", "location"]
        read_only_fields = fields


class ShipmentSerializer(serializers.ModelSerializer):
    carrier = serializers.ChoiceField(choices=Carrier.choices, required=False, allow_blank=True)
    language = serializers.ChoiceField(choices=Language.choices, required=False, allow_blank=True)
    # The model's 254 characters (RFC 5321): a longer address is a 400, not a database error.
    buyer_email = serializers.EmailField(max_length=254)
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
        return links.tracking_page_url(shipment)

    def validate_tracking_number(self, value):
        if not 4 <= len(normalise_tracking_number(value)) <= 40:
            raise serializers.ValidationError("A tracking number has 4 to 40 letters or digits.")
        return value

    def create(self, validated):
        request = self.context["request"]
        return shipments.create_shipment(
            request.user.storefront,
            shipments.NewShipment(**{**validated, "items": tuple(validated.get("items", ()))}),
            actor=request.auth,  # the API key: the audit log names it
        )


class ShipmentCorrectionSerializer(serializers.ModelSerializer):
    carrier = serializers.ChoiceField(choices=Carrier.choices)
    language = serializers.ChoiceField(choices=Language.choices, required=False, allow_blank=True)

    class Meta:
        model = Shipment
        fields = list(shipments.CORRECTABLE)


class ConflictSerializer(docs.ErrorSerializer):
    id = serializers.IntegerField(help_text="The id of the shipment already there.")


# The example bodies and answers (/api/docs/): real ones, ids and tokens shortened.
SHIPMENT_IN = {
    "order_reference": "ML-10428",
    "buyer_email": "camille@example.com",
    "buyer_name": "Camille Martin",
    "language": "fr",
    "tracking_number": "6A 1234 5678 901",
    "promised_delivery_date": "2026-11-28",
    "items": [{"sku": "LUNE-01", "quantity": 1}],
}

SHIPMENT = {
    "id": 7,
    "order_reference": "ML-10428",
    "buyer_email": "camille@example.com",
    "buyer_name": "Camille Martin",
    "language": "fr",
    "carrier": "colissimo",
    "tracking_number": "6A12345678901",
    "shipped_at": "2026-11-25T08:30:00Z",
    "promised_delivery_date": "2026-11-28",
    "items": [{"sku": "LUNE-01", "quantity": 1}],
    "status": "pending",
    "estimated_delivery_date": None,
    "stalled": False,
    "late": False,
    "checkpoints": [],
    "tracking_url": "https://aftersale.example/t/q3Vb0mXc7Lr2TfA9sKpE1uWy4hNzGd/",
    "carrier_tracking_url": "https://www.laposte.fr/outils/suivre-vos-envois?code=6A12345678901",
}

SHIPMENT_IN_TRANSIT = {
    **SHIPMENT,
    "status": "in_transit",
    "estimated_delivery_date": "2026-11-27",
    "checkpoints": [
        {
            "time": "2026-11-26T06:12:00Z",
            "status": "in_transit",
            "description": "Votre colis est en cours d'acheminement.",
            "location": "Wissous",
        },
        {
            "time": "2026-11-25T17:40:00Z",
            "status": "info_received",
            "description": "Votre colis a été déposé.",
            "location": "Paris",
        },
    ],
}

SHIPMENT_CORRECTED = {
    **SHIPMENT,
    "carrier": "dhl",
    "carrier_tracking_url": ("https://www.dhl.com/fr-fr/home/suivi.html?tracking-id=6A12345678901"),
}


SHIPMENT_FIELDS = (
    "`status` is the carrier's latest news in Aftersale's words (pending, info_received, "
    "in_transit, out_for_delivery, failed_attempt, available_for_pickup, delivered, exception, "
    "returned, expired); `checkpoints` are that news, latest first. `stalled`: no news for the "
    "storefront's number of days while not delivered; `late`: past `promised_delivery_date`. "
    "`tracking_url` is the buyer's tracking page (a random link, new after it is revoked on the "
    "shipment's dashboard page), `carrier_tracking_url` the carrier's."
)
EXISTS = OpenApiResponse(
    ConflictSerializer,
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
                examples=[docs.example("A parcel in transit", SHIPMENT_IN_TRANSIT, status=200)],
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
                examples=[docs.example("A parcel in transit", SHIPMENT_IN_TRANSIT, status=200)],
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
            docs.example("A parcel whose carrier is guessed", SHIPMENT_IN, request_only=True),
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
                examples=[docs.example("Recorded", SHIPMENT, status=201)],
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
                examples=[docs.example("Carrier corrected", SHIPMENT_CORRECTED, status=200)],
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
                ConflictSerializer,
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

    def scoped_queryset(self, storefront):
        return (
            super()
            .scoped_queryset(storefront)
            .select_related("storefront")
            .prefetch_related("checkpoints")
            .order_by("-created_at", "-id")
        )

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            shipment = serializer.save()
        except shipments.ShipmentExists as exists:
            return Response(
                {"detail": "This shipment already exists.", "id": exists.shipment.pk}, status=409
            )
        return Response(self.get_serializer(shipment).data, status=201)

    def partial_update(self, request, *args, **kwargs):
        shipment = self.get_object()
        correction = ShipmentCorrectionSerializer(shipment, data=request.data, partial=True)
        correction.is_valid(raise_exception=True)
        unknown = set(request.data) - set(shipments.CORRECTABLE)
        if unknown:
            return Response(
                {field: ["This field cannot be changed."] for field in sorted(unknown)},
                status=400,
            )
        try:
            shipment = shipments.correct_shipment(
                shipment, correction.validated_data, actor=request.auth
            )
        except shipments.ShipmentExists as exists:
            return Response(
                {
                    "detail": "Another shipment has this carrier and number.",
                    "id": exists.shipment.pk,
                },
                status=409,
            )
        return Response(self.get_serializer(shipment).data)
