"""URLconf for bench/webhook_ingest.py: the project's URLs plus the baselines' view.

The baseline is the least work a Stripe webhook must do, nothing else, as a single-shop Django
app would write it: the shop and its signing secret are known to the process (the benchmark
gives them in the environment), so nothing is looked up; the view reads the body, checks the
`Stripe-Signature` HMAC with `hmac` over `<t>.<raw body>` (every `v1` in constant time, the
timestamp within 300 s either way), reads the event's id and type, and inserts the raw event
into the same table with the same INSERT … ON CONFLICT DO NOTHING as inbound.services.store.

It is mounted twice, and bench/wsgi.py serves each path with its own middleware stack:
- /bench/minimal-stripe/<public id>/: Django's default middleware (MIDDLEWARE as
  `django-admin startproject` writes it);
- /bench/house-stripe/<public id>/: the project's settings.MIDDLEWARE, all of it, as any page
  outside /webhooks/ gets.
"""

import hashlib
import hmac
import json
import os
import time

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from inbound.models import InboundEvent

MAX_BODY = 1024 * 1024
TOLERANCE = 300
PROVIDER = "stripe"
KEPT_HEADERS = ("Content-Type", "User-Agent", "Stripe-Signature")
# The shop this process serves, given by bench/webhook_ingest.py to gunicorn's environment.
PUBLIC_ID = os.environ.get("AFTERSALE_BENCH_PUBLIC_ID", "")
STOREFRONT_ID = int(os.environ.get("AFTERSALE_BENCH_STOREFRONT_ID", "0"))
SECRET = os.environ.get("AFTERSALE_BENCH_STRIPE_SECRET", "").encode()
INSERT = f"""
    INSERT INTO {InboundEvent._meta.db_table}
        (storefront_id, provider, event_id, event_type, body, headers, status,
         attempts, last_error, received_at)
    VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s, 0, '', now())
    ON CONFLICT (storefront_id, provider, event_id) DO NOTHING
    RETURNING id
"""  # noqa: S608 - the table name comes from the model, values are parameters


def refused(reason: str) -> JsonResponse:
    return JsonResponse({"error": reason}, status=400)


@csrf_exempt
@require_POST
def minimal_view(request, public_id):
    if public_id != PUBLIC_ID:
        return HttpResponse(status=404)
    body = request.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        return HttpResponse(status=413)
    items = [item.partition("=") for item in request.headers.get("Stripe-Signature", "").split(",")]
    stamps = [value for key, _, value in items if key == "t"]
    if not stamps or not stamps[0].isascii() or not stamps[0].isdigit():
        return refused("malformed Stripe-Signature header")
    timestamp = int(stamps[0])
    expected = hmac.new(SECRET, b"%d." % timestamp + body, hashlib.sha256).hexdigest().encode()
    if not any(hmac.compare_digest(expected, v.encode()) for k, _, v in items if k == "v1"):
        return refused("no matching signature")
    if abs(time.time() - timestamp) > TOLERANCE:
        return refused("timestamp outside the tolerance")
    try:
        text = body.decode("utf-8")
        event = json.loads(text)
        event_id, event_type = str(event["id"]), str(event["type"])
    except (UnicodeDecodeError, ValueError, TypeError, KeyError):
        return refused("not an event")
    headers = {name: request.headers[name] for name in KEPT_HEADERS if name in request.headers}
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT,
            [
                STOREFRONT_ID,
                PROVIDER,
                event_id[:255],
                event_type[:100],
                text,
                json.dumps(headers),
                InboundEvent.Status.RECEIVED,
            ],
        )
        row = cursor.fetchone()
    return JsonResponse({"received": True, "duplicate": row is None})


# The baselines first, so a catch-all in config.urls could never shadow them; resolving a URL
# costs microseconds next to the milliseconds a request takes.
urlpatterns = [
    path("bench/minimal-stripe/<str:public_id>/", minimal_view, name="bench-minimal-stripe"),
    path("bench/house-stripe/<str:public_id>/", minimal_view, name="bench-house-stripe"),
    path("", include("config.urls")),
]
