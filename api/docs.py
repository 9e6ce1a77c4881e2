"""What /api/docs/ shows beside the generated schema: example payloads and the error answers
the endpoints share. Examples are real answers of the API (ids and tokens shortened), so they
change with the serializers beside them."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in words.")


class ConflictSerializer(ErrorSerializer):
    id = serializers.IntegerField(help_text="The id of the shipment already there.")


# A 400 names each field (or filter) that was wrong, with what to fix.
FIELD_ERRORS = {
    "type": "object",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}

STOREFRONT = {
    "id": "sf_c0984943ea2de9d0571eb64a",
    "name": "Maison Lune",
    "slug": "maison-lune",
    "language": "fr",
    "time_zone": "Europe/Paris",
    "currency": "EUR",
    "shop_url": "https://maison-lune.example",
}

MESSAGE = {
    "id": 42,
    "kind": "payment_recovery",
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

LOST_SALE = {
    "id": 17,
    "order_reference": "ML-10428",
    "amount": 8900,
    "currency": "EUR",
    "buyer_email": "camille@example.com",
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
    "recovered_after_click": False,
    "messages": [
        {
            "id": 42,
            "kind": "payment_recovery",
            "template": "payment_recovery_bank_declined",
            "to": "camille@example.com",
            "status": "sent",
            "send_at": "2026-11-25T10:00:00Z",
            "sent_at": "2026-11-25T10:00:03Z",
        },
        {
            "id": 43,
            "kind": "payment_recovery",
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
    "recovered_after_click": True,
    "messages": [
        {**LOST_SALE["messages"][0], "id": 44, "template": "payment_recovery_card_expired"}
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


def example(name: str, value, *, summary: str = "", status: int | None = None, **kwargs):
    """A response example (for `status` if given), or a request example with request_only."""
    if status is not None:
        kwargs["status_codes"] = [str(status)]
    return OpenApiExample(name, value=value, summary=summary or name, **kwargs)


UNAUTHORIZED = OpenApiResponse(
    ErrorSerializer,
    description="No API key, or a wrong or revoked one (with `WWW-Authenticate: Bearer`).",
    examples=[
        example(
            "No key",
            {"detail": "Authentication credentials were not provided."},
            status=401,
        ),
        example("Wrong or revoked key", {"detail": "Invalid or revoked API key."}, status=401),
    ],
)


def not_found(model: str) -> OpenApiResponse:
    return OpenApiResponse(
        ErrorSerializer,
        description=f"No {model.lower()} with this id for the key's storefront; another "
        "storefront's id is answered the same way.",
        examples=[
            example("Not found", {"detail": f"No {model} matches the given query."}, status=404)
        ],
    )


def bad_filters(*examples) -> OpenApiResponse:
    return OpenApiResponse(
        FIELD_ERRORS,
        description="A filter was given a value it does not take; each is named.",
        examples=list(examples),
    )


def tidy_page_examples(result, generator, request, public):
    """A schema hook (SPECTACULAR_SETTINGS): drf-spectacular wraps a list's example in DRF's
    sample page (a count of 123, links to api.example.org/accounts/); show instead a page
    holding just the example."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            for response in operation.get("responses", {}).values():
                for media in response.get("content", {}).values():
                    for shown in media.get("examples", {}).values():
                        page = shown.get("value")
                        if isinstance(page, dict) and set(page) == PAGE_KEYS:
                            shown["value"] = {
                                "count": len(page["results"]),
                                "next": None,
                                "previous": None,
                                "results": page["results"],
                            }
    return result


PAGE_KEYS = {"count", "next", "previous", "results"}
