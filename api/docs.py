"""What /api/docs/ shows beside the generated schema, shared by the resources: the error
answers every endpoint gives, how an example is written, and the hook that tidies list
examples. Each resource's module holds its own examples, real answers of the API (ids and
tokens shortened) beside the serializers they must keep matching."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in words.")


# A 400 names each field (or filter) that was wrong, with what to fix.
FIELD_ERRORS = {
    "type": "object",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
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
