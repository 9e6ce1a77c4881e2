"""A message due when it is scheduled goes at once: its sending is enqueued when the scheduling
transaction commits (send_on_commit, called by outbox.schedule), rather than waiting for the beat
tick (send_due every 5 s), which stays the safety net.

The task (SEND_TASK, notifications.tasks.send_now) sends through sending.send_now(): the same
claim and guards as the tick, so quiet hours, the daily cap and the suppression list still apply,
and a message the tick claimed first is skipped (the claim, not the task, makes it go once).

Enqueueing never holds up or fails the work that scheduled: it runs after the commit, publishes
once with short timeouts and no retry, and a broker that does not answer is logged once (not on
every message) until it answers again. Nothing is lost meanwhile: the
messages are rows, and the tick sends them once the broker is back.
"""

import logging

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)

# The task that sends named messages (notifications.tasks.send_now). Named here, where the
# messages are sent to it, and given to the task as its name.
SEND_TASK = "notifications.tasks.send_now"
# Message ids per task: a beat job scheduling thousands at once sends them in a few tasks.
IDS_PER_TASK = 500
# The broker's answer is awaited this long (seconds): without it, a broker that accepts the
# connection but does not answer (paused, overloaded) would hold the caller indefinitely.
# Connecting is bounded by the app's socket_connect_timeout (CELERY_BROKER_TRANSPORT_OPTIONS).
ANSWER_TIMEOUT = 1


class _DueOnCommit:
    """The on-commit callback of one transaction: the ids of the messages it scheduled due."""

    def __init__(self):
        self.message_ids: list[int] = []

    def __call__(self):
        enqueue(self.message_ids)


def send_on_commit(message_id: int) -> None:
    """Enqueue the sending of this message when the current transaction commits (at once outside
    one); nothing if it rolls back. The messages of one transaction go in one task."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        enqueue([message_id])
        return
    # The transaction's callback, if one is registered and still pending. Django keeps the
    # pending callbacks in run_on_commit as (savepoint ids, callback, robust) and drops those of
    # a savepoint rolled back: a message scheduled inside one has its row rolled back with it.
    pending = next(
        (entry[1] for entry in connection.run_on_commit if isinstance(entry[1], _DueOnCommit)),
        None,
    )
    if pending is None:
        pending = _DueOnCommit()
        # robust: whatever happens in it, the work that scheduled has committed and stands.
        transaction.on_commit(pending, robust=True)
    pending.message_ids.append(message_id)


class _Broker:
    """Whether the last enqueue reached the broker, so that an outage is logged once."""

    answering = True


def enqueue(message_ids: list[int]) -> bool:
    """Send the task(s) for these messages to the broker; False (logged once per outage) when it
    does not answer: the beat tick sends them once it is back."""
    options = {"socket_timeout": ANSWER_TIMEOUT}
    try:
        # A connection of its own, for its timeout: a few milliseconds more than the app's
        # pooled one, once per transaction.
        with current_app.connection_for_write(transport_options=options) as connection:
            for start in range(0, len(message_ids), IDS_PER_TASK):
                chunk = message_ids[start : start + IDS_PER_TASK]
                current_app.send_task(SEND_TASK, args=[chunk], connection=connection, retry=False)
    except Exception as error:  # noqa: BLE001 - any broker failure: the tick is the safety net
        if _Broker.answering:
            logger.warning(
                "due messages not enqueued (%s): the broker does not answer; the beat tick will "
                "send them",
                type(error).__name__,
            )
        _Broker.answering = False
        return False
    if not _Broker.answering:
        logger.info("due messages are enqueued again: the broker answers")
        _Broker.answering = True
    return True
