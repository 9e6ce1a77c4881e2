"""URLconf for bench/webhook_ingest.py: the project's URLs plus a bare Stripe webhook view.

The bare view is the baseline the real endpoint (inbound.edge.webhook) is measured against: the
least work a Stripe webhook must do, nothing else. It looks the storefront up by public id,
reads the body, verifies the signature with payments.providers.stripe.webhooks.verify against
the storefront's active secrets (decrypted from the database by the same selector, on every
request, as the real view does), and inserts the raw event into the same table with the same
INSERT … ON CONFLICT DO NOTHING. No connection lookup, no Connect routing.
"""

import json

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from inbound.errors import VerificationError
from inbound.models import InboundEvent
from payments.providers.stripe.webhooks import PROVIDER, verify
from storefront_settings.models import Storefront
from storefront_settings.selectors import active_provider_secrets

MAX_BODY = 1024 * 1024
KEPT_HEADERS = ("Content-Type", "User-Agent", "Stripe-Signature")
INSERT = f"""
    INSERT INTO {InboundEvent._meta.db_table}
        (storefront_id, provider, event_id, event_type, body, headers, status,
         attempts, last_error, received_at)
    VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s, 0, '', now())
    ON CONFLICT (storefront_id, provider, event_id) DO NOTHING
    RETURNING id
"""  # noqa: S608 - the table name comes from the model, values are parameters


@csrf_exempt
@require_POST
def bare_view(request, public_id):
    storefront = Storefront.objects.filter(public_id=public_id).first()
    if storefront is None:
        return HttpResponse(status=404)
    body = request.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        return HttpResponse(status=413)
    try:
        event = verify(
            body,
            request.headers.get("Stripe-Signature"),
            active_provider_secrets(storefront=storefront, provider=PROVIDER),
        )
        text = body.decode("utf-8")
    except (VerificationError, UnicodeDecodeError) as error:
        return JsonResponse({"error": str(error)}, status=400)
    headers = {name: request.headers[name] for name in KEPT_HEADERS if name in request.headers}
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT,
            [
                storefront.pk,
                PROVIDER,
                str(event["id"])[:255],
                str(event["type"])[:100],
                text,
                json.dumps(headers),
                InboundEvent.Status.RECEIVED,
            ],
        )
        row = cursor.fetchone()
    return JsonResponse({"received": True, "duplicate": row is None})


# The bare view first, so a catch-all in config.urls could never shadow it; resolving either
# URL costs microseconds next to the milliseconds a request takes.
urlpatterns = [
    path("bench/bare-stripe/<str:public_id>/", bare_view, name="bench-bare-stripe"),
    path("", include("config.urls")),
]
