"""/api/v1/lost-sales/: failed payments, what became of them, and giving up on one."""

import django_filters
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api import docs
from api.base import StorefrontScopedViewSet
from notifications.models import Message, MessageKind
from payments.models import LostSale
from payments.reasons import FailureReason
from payments.selectors import messages_by_sale
from payments.services import merchant


class MessageSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = ["id", "kind", "template", "to", "status", "send_at", "sent_at"]
        read_only_fields = fields


class LostSaleSerializer(serializers.ModelSerializer):
    recovered_with_order = serializers.SerializerMethodField(
        help_text="The order reference of the payment that recovered the sale, when known "
        "(for a sale paid with another order, that order); empty otherwise."
    )
    messages = serializers.SerializerMethodField()

    class Meta:
        model = LostSale
        fields = [
            "id",
            "order_reference",
            "amount",
            "currency",
            "buyer_email",
            "invalid_buyer_email",
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
            "recovered_by",
            "recovered_with_order",
            "recovered_after_click",
            "messages",
        ]
        read_only_fields = fields

    def get_recovered_with_order(self, lost_sale) -> str:
        payment = lost_sale.recovered_by_payment
        return payment.order_reference if payment is not None else ""

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


# The example answers (/api/docs/): real ones, ids shortened.
LOST_SALE = {
    "id": 17,
    "order_reference": "ML-10428",
    "amount": 8900,
    "currency": "EUR",
    "buyer_email": "camille@example.com",
    "invalid_buyer_email": "",
    "buyer_name": "Camille Martin",
    "buyer_phone": "",
    "reason": "bank_declined",
    "provider": "stripe",
    "codes": {"code": "card_declined", "decline_code": "do_not_honor"},
    "status": "open",
    "attempts": 2,
    "created_at": "2026-11-25T09:00:02Z",
    "first_failed_at": "2026-11-25T09:00:00Z",
    "last_failed_at": "2026-11-25T09:04:10Z",
    "recovered_at": None,
    "recovered_amount": None,
    "recovered_by": "",
    "recovered_with_order": "",
    "recovered_after_click": False,
    "messages": [
        {
            "id": 42,
            "kind": MessageKind.PAYMENT_RECOVERY.value,
            "template": "payment_recovery_bank_declined",
            "to": "camille@example.com",
            "status": "sent",
            "send_at": "2026-11-25T10:00:00Z",
            "sent_at": "2026-11-25T10:00:03Z",
        },
        {
            "id": 43,
            "kind": MessageKind.PAYMENT_RECOVERY.value,
            "template": "payment_recovery_bank_declined",
            "to": "camille@example.com",
            "status": "scheduled",
            "send_at": "2026-11-26T09:00:00Z",
            "sent_at": None,
        },
    ],
}

RECOVERED_SALE = {
    **LOST_SALE,
    "id": 18,
    "order_reference": "ML-10431",
    "reason": "card_expired",
    "codes": {"code": "expired_card"},
    "status": "recovered",
    "attempts": 1,
    "recovered_at": "2026-11-25T11:20:00Z",
    "recovered_amount": 8900,
    "recovered_by": "same_order",
    "recovered_with_order": "ML-10431",
    "recovered_after_click": True,
    "messages": [
        {**LOST_SALE["messages"][0], "id": 44, "template": "payment_recovery_card_expired"}
    ],
}

PAID_WITH_ANOTHER_ORDER = {
    **LOST_SALE,
    "id": 19,
    "order_reference": "ML-10433",
    "reason": "authentication_failed",
    "codes": {"code": "payment_intent_authentication_failure"},
    "status": "recovered",
    "attempts": 1,
    "recovered_at": "2026-11-25T09:12:40Z",
    "recovered_amount": 8900,
    "recovered_by": "another_order",
    "recovered_with_order": "ML-10436",
    "recovered_after_click": False,
    "messages": [
        {
            **LOST_SALE["messages"][1],
            "id": 45,
            "template": "payment_recovery_authentication_failed",
            "status": "cancelled",
            "send_at": "2026-11-25T09:15:00Z",
        }
    ],
}

MARKED_LOST = {
    **LOST_SALE,
    "status": "lost",
    "messages": [
        LOST_SALE["messages"][0],
        {**LOST_SALE["messages"][1], "status": "cancelled"},
    ],
}


LOST_SALE_FIELDS = (
    "`reason` is the failure in Aftersale's words, whatever the provider; `codes` keeps the "
    "provider's raw codes. `amount` is in minor units of `currency`. `status` is open, "
    "recovered or lost. A recovered sale says what paid it in `recovered_by`: `same_order` (a "
    "later payment for the order succeeded) or `another_order` (the same buyer, by address, "
    "paid another order at the shop within the recovery window, in the same currency and for "
    "at least 80 % of the sale's amount by default: the buyer came back, so the recovery "
    "emails stop); `recovered_with_order` is the paying order's reference, `recovered_at` when "
    "it was paid, and `recovered_after_click` whether the buyer had clicked a recovery email "
    "before. `recovered_amount` is the revenue the recovery counts: what the payment paid, "
    "counted once, so a payment that settles several sales (or whose own order was a lost "
    "sale too) counts 0 on the others. `messages` are the emails about the sale, sent and "
    "scheduled."
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
                    docs.example("An open sale with one email sent", LOST_SALE, status=200),
                    docs.example("A sale recovered after a click", RECOVERED_SALE, status=200),
                    docs.example(
                        "A sale paid with another order", PAID_WITH_ANOTHER_ORDER, status=200
                    ),
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
                    docs.example("An open sale with one email sent", LOST_SALE, status=200),
                    docs.example("A sale recovered after a click", RECOVERED_SALE, status=200),
                    docs.example(
                        "A sale paid with another order", PAID_WITH_ANOTHER_ORDER, status=200
                    ),
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

    def scoped_queryset(self, storefront):
        return (
            super()
            .scoped_queryset(storefront)
            .select_related("recovered_by_payment")
            .order_by("-last_failed_at", "-id")
        )

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
                examples=[docs.example("Marked lost", MARKED_LOST, status=200)],
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
        merchant.mark_lost(lost_sale=lost_sale, actor=request.auth)
        return Response(self.get_serializer(lost_sale).data)
