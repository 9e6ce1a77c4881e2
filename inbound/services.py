"""Store a verified webhook event once; hand stored events to the workers; re-enqueue what a
dead worker or a lost message left behind."""

import json
import logging
import random
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from inbound import outage
from inbound.errors import is_permanent
from inbound.models import InboundEvent
from storefront_settings.models import AuditAction, Storefront
from storefront_settings.services.audit import record

logger = logging.getLogger(__name__)

# An event enqueued this long ago and still not processed is enqueued again.
SWEEP_INTERVAL = timedelta(minutes=2)
SWEEP_BATCH = 500
DISPATCH_BATCH = 1000
# A temporary error is tried again after about 10 s, 20 s, 40 s, then every minute: under
# SWEEP_INTERVAL, so the sweeper does not enqueue a second copy of an event waiting to be retried.
RETRY_BASE_SECONDS = 10
RETRY_CAP_SECONDS = 60
# The task that processes one stored event by asking its connection's adapter (inbound.tasks).
# Named here, where the events are sent to it, and given to the task as its name.
PROCESS_TASK = "inbound.tasks.process_inbound_event"

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
    """Insert the event unless (storefront, provider, event id) is already stored. Returns the
    new row, or None for a duplicate. Nothing else happens in the request: dispatch() hands
    the row to a worker a moment later."""
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
    return InboundEvent(
        pk=row[0],
        storefront=storefront,
        provider=provider,
        event_id=event_id,
        event_type=event_type,
        status=Status.RECEIVED,
    )


def dispatch(*, limit: int = DISPATCH_BATCH) -> int:
    """Enqueue the processing of every stored event not enqueued yet (beat, every half second).

    The row's own state is the queue: the webhook request only inserts, so it answers as fast
    as one INSERT allows and never waits on the broker; if the broker is down, the rows wait
    here and go as soon as it is back. While it is down, the dispatcher tries it only once per
    backoff delay (outage.BROKER), and stops at the first event it cannot send."""
    if not outage.BROKER.may_try():
        return 0
    with transaction.atomic():
        # Beat serves every tenant: crossing tenants is the point here.
        claimed = list(
            InboundEvent.unscoped.select_for_update(skip_locked=True)
            .filter(status=Status.RECEIVED, enqueued_at__isnull=True)
            .order_by("received_at")
            .values_list("pk", "provider")[:limit]
        )
        InboundEvent.unscoped.filter(pk__in=[pk for pk, _ in claimed]).update(
            enqueued_at=timezone.now()
        )
    sent = 0
    for pk, provider in claimed:
        if not _send(pk, provider):
            break  # the broker is down: the others would fail the same way
        sent += 1
    if sent < len(claimed):
        InboundEvent.unscoped.filter(pk__in=[pk for pk, _ in claimed[sent:]]).update(
            enqueued_at=None
        )
    return sent


def _send(event_pk: int, provider: str) -> bool:
    """Send an event's processing task to the broker; False when the broker is down, or was a
    moment ago (outage.BROKER reports the outage once, and its end)."""
    if not outage.BROKER.may_try():
        return False
    try:
        current_app.send_task(PROCESS_TASK, args=[event_pk, provider], retry=False)
    except Exception as error:  # noqa: BLE001 - any broker failure: tried again later
        outage.BROKER.failed(error)
        return False
    outage.BROKER.succeeded()
    return True


def enqueue(event: InboundEvent) -> bool:
    """Enqueue one event's processing now and record when (the sweeper and replay).

    The time is recorded before the task is sent, as dispatch() does: a worker that takes the
    task at once must not find the row locked by this UPDATE, or its claim (SKIP LOCKED) skips
    the event, which then waits for the sweeper."""
    row = InboundEvent.objects.for_storefront(event.storefront).filter(pk=event.pk)
    row.update(enqueued_at=timezone.now())
    if not _send(event.pk, event.provider):
        row.update(enqueued_at=event.enqueued_at)
        return False
    return True


def requeue_unprocessed(*, now: datetime | None = None) -> int:
    """Enqueue again what was enqueued but is still `received` a while later: a worker died,
    or the broker lost the message. Processing is idempotent, so a second delivery is harmless."""
    now = now or timezone.now()
    # Beat serves every tenant: crossing tenants is the point here.
    stale = list(
        InboundEvent.unscoped.select_related("storefront")
        .filter(status=Status.RECEIVED, enqueued_at__lt=now - SWEEP_INTERVAL)
        .order_by("received_at")[:SWEEP_BATCH]
    )
    return sum(enqueue(event) for event in stale)


def replay(event: InboundEvent, *, actor=None) -> bool:
    """Process a stored event again from its raw body (ops' action in admin)."""
    with transaction.atomic():
        InboundEvent.objects.for_storefront(event.storefront).filter(pk=event.pk).update(
            status=Status.RECEIVED, last_error="", attempts=0
        )
        record(
            storefront=event.storefront,
            actor=actor,
            action=AuditAction.INBOUND_EVENT_REPLAYED,
            provider=event.provider,
            event_type=event.event_type,
            event_id=event.event_id,
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


def record_failure(event_id: int, error: Exception) -> float | None:
    """Count a failed processing attempt and say when to try again: in seconds, or None when
    the event is not to be tried again.

    A permanent error (bad data: inbound.errors.is_permanent) fails the event at once; any
    other (a database or broker outage; a bug, which a fix and a replay mend) leaves it
    `received` for a retry with backoff until settings.INBOUND_MAX_ATTEMPTS attempts have
    failed. A failed event keeps its
    error for ops (admin lists it with the replay action, /healthz?detail=1 counts it), and is
    logged once, with its traceback, when it becomes failed. The retries are logged at debug:
    Celery's worker already writes one line per retry, without a traceback."""
    permanent = is_permanent(error)
    with transaction.atomic():
        event = (
            InboundEvent.unscoped.select_for_update()
            .filter(pk=event_id, status=Status.RECEIVED)
            .first()
        )
        if event is None:
            return None  # processed meanwhile (a duplicate delivery), or failed already
        event.attempts += 1
        event.last_error = f"{type(error).__name__}: {error}"[:2000]
        failed = permanent or event.attempts >= settings.INBOUND_MAX_ATTEMPTS
        # Retried: the sweeper counts SWEEP_INTERVAL from this attempt, not from the first.
        event.enqueued_at = timezone.now()
        if failed:
            event.status, event.processed_at = Status.FAILED, event.enqueued_at
        event.save(
            update_fields=["attempts", "last_error", "enqueued_at", "status", "processed_at"]
        )
    if failed:
        logger.error(
            "inbound event %s (%s %s) failed after %d attempt(s)%s: %s",
            event.pk,
            event.provider,
            event.event_id,
            event.attempts,
            ", a permanent error" if permanent else "",
            event.last_error,
            exc_info=error,
        )
        return None
    logger.debug("inbound event %s: attempt %d failed: %s", event.pk, event.attempts, error)
    return retry_delay(event.attempts)


def retry_delay(attempts: int) -> float:
    """Exponential backoff with jitter after `attempts` failed attempts: about 10 s, 20 s, 40 s,
    then a minute."""
    delay = min(RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), RETRY_CAP_SECONDS)
    return delay * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not a secret
