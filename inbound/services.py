"""Store a verified webhook event once, hand it to the worker, and re-enqueue what was left."""

import json
import logging
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from inbound.models import InboundEvent
from storefront_settings.models import Storefront

logger = logging.getLogger(__name__)

# Left alone this long after arrival before the sweeper re-enqueues it (the normal path
# enqueues at once), and re-enqueued at most this often.
SWEEP_GRACE = timedelta(seconds=30)
SWEEP_INTERVAL = timedelta(minutes=2)
SWEEP_BATCH = 500
MAX_ATTEMPTS = 10

Status = InboundEvent.Status


def store(
    *,
    storefront: Storefront,
    provider: str,
    event_id: str,
    event_type: str,
    body: str,
    headers: dict,
) -> InboundEvent | None:
    """Insert the event unless (storefront, provider, event id) is already stored; enqueue its
    processing once the row is committed. Returns the new row, or None for a duplicate."""
    table = InboundEvent._meta.db_table
    # INSERT … ON CONFLICT DO NOTHING RETURNING: one statement, no race between concurrent
    # deliveries of one event, and it tells which delivery won.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table}
                (storefront_id, provider, event_id, event_type, body, headers, status,
                 attempts, last_error, received_at)
            VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s, 0, '', now())
            ON CONFLICT (storefront_id, provider, event_id) DO NOTHING
            RETURNING id
            """,  # noqa: S608 - the table name comes from the model, values are parameters
            [
                storefront.pk,
                provider,
                event_id[:255],
                event_type[:100],
                body,
                json.dumps(headers),
                Status.RECEIVED,
            ],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    event = InboundEvent.objects.for_storefront(storefront).get(pk=row[0])
    transaction.on_commit(lambda: enqueue(event))
    return event


def enqueue(event: InboundEvent) -> bool:
    """Send the event's processing task to the broker; False (logged) when the broker is down.
    The row stays `received`, and the sweeper tries again."""
    task = settings.INBOUND_PROCESSORS[event.provider]
    try:
        current_app.send_task(task, args=[event.pk], retry=False)
    except Exception as error:  # noqa: BLE001 - any broker failure: the sweeper will retry
        logger.warning("inbound event %s not enqueued: %s", event.pk, type(error).__name__)
        return False
    InboundEvent.objects.for_storefront(event.storefront).filter(pk=event.pk).update(
        enqueued_at=timezone.now()
    )
    return True


def requeue_unprocessed(*, now: datetime | None = None) -> int:
    """Enqueue again what is still `received` after the grace period: the broker was down,
    or a worker died. Processing is idempotent, so a second delivery is harmless."""
    now = now or timezone.now()
    # Beat serves every tenant: crossing tenants is the point here.
    pending = list(
        InboundEvent.unscoped.select_related("storefront")
        .filter(status=Status.RECEIVED, received_at__lt=now - SWEEP_GRACE)
        .exclude(enqueued_at__gt=now - SWEEP_INTERVAL)
        .order_by("received_at")[:SWEEP_BATCH]
    )
    return sum(enqueue(event) for event in pending)


def replay(event: InboundEvent) -> bool:
    """Process a stored event again from its raw body (ops' action in admin)."""
    InboundEvent.objects.for_storefront(event.storefront).filter(pk=event.pk).update(
        status=Status.RECEIVED, last_error="", attempts=0
    )
    event.refresh_from_db()
    return enqueue(event)


def claim(event_id: int) -> InboundEvent | None:
    """Lock the event for processing inside the caller's transaction; None when another worker
    holds it or it is no longer `received` (a duplicate task)."""
    return (
        InboundEvent.unscoped.select_for_update(skip_locked=True, of=("self",))
        .select_related("storefront")
        .filter(pk=event_id, status=Status.RECEIVED)
        .first()
    )


def finish(event: InboundEvent, *, status: str, error: str = "") -> None:
    InboundEvent.objects.for_storefront(event.storefront).filter(pk=event.pk).update(
        status=status, last_error=error[:2000], processed_at=timezone.now()
    )


def record_failure(event_id: int, error: Exception) -> None:
    """Count a failed processing attempt; after MAX_ATTEMPTS the event is `failed` for ops."""
    event = InboundEvent.unscoped.select_related("storefront").get(pk=event_id)
    attempts = event.attempts + 1
    InboundEvent.objects.for_storefront(event.storefront).filter(pk=event.pk).update(
        attempts=attempts,
        last_error=f"{type(error).__name__}: {error}"[:2000],
        status=Status.FAILED if attempts >= MAX_ATTEMPTS else Status.RECEIVED,
    )
