"""/api/v1/messages/: the emails scheduled or sent for the storefront."""

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

from api import docs
from api.base import StorefrontScopedViewSet
from notifications.models import Message, MessageKind


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
        extra_kwargs = {
            "send_at": {
                "help_text": "When the message was scheduled to go: for a recovery email, the "
                "sale's first failure plus the policy's delay (0 minutes: at once). Quiet hours "
                "and the daily limit per buyer may hold it later; `sent_at` is when it went."
            },
            "sent_at": {"help_text": "When it was handed to the email provider; null until then."},
        }

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


# The example answer (/api/docs/): a real one, ids shortened.
MESSAGE = {
    "id": 42,
    "kind": MessageKind.PAYMENT_RECOVERY.value,
    "template": "payment_recovery_bank_declined",
    "to": "camille@example.com",
    "locale": "fr",
    "status": "sent",
    "delivery": "delivered",
    "send_at": "2026-11-25T10:00:00Z",
    "sent_at": "2026-11-25T10:00:03Z",
    "subject": "Votre paiement n'a pas abouti",
    "about": {"type": "payments.lostsale", "id": "17"},
}


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
                examples=[docs.example("A recovery email sent", MESSAGE, status=200)],
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
                examples=[docs.example("A recovery email sent", MESSAGE, status=200)],
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

    def scoped_queryset(self, storefront):
        return (
            super()
            .scoped_queryset(storefront)
            .select_related("about_type")
            .order_by("-send_at", "-id")
        )
