"""Celery beat, quiet while the broker is down (CELERY_BEAT_SCHEDULER).

Celery's own scheduler logs every task it cannot send with a traceback and the whole stack (about
290 lines a minute while Redis is down, from the dispatcher's one-second tick alone). This one
reports the outage once (inbound.outage.BROKER, a warning without a traceback), tries the broker
only once per backoff delay meanwhile, and logs once when it is back.
"""

import logging

from celery.beat import PersistentScheduler, ScheduleEntry
from kombu.exceptions import OperationalError

from inbound import outage

logger = logging.getLogger(__name__)

# What kombu raises when it cannot reach the broker (it wraps the transport's errors), and the
# socket's own errors.
BROKER_DOWN = (OperationalError, OSError)


class QuietScheduler(PersistentScheduler):
    """Backing off never drops a run: each entry due during the outage is sent once the broker
    answers again (once, however many of its runs were missed; every beat job is idempotent)."""

    def __init__(self, *args, **kwargs):
        self._missed: dict[str, ScheduleEntry] = {}
        super().__init__(*args, **kwargs)

    def apply_entry(self, entry, producer=None):
        if not outage.BROKER.may_try():
            self._missed[entry.name] = entry
            return
        # Celery's own line for each run (celery.beat.Scheduler.apply_entry).
        logger.info("Scheduler: Sending due task %s (%s)", entry.name, entry.task)
        try:
            self.apply_async(entry, producer=producer, advance=False)
        except Exception as error:  # noqa: BLE001 - Celery's own handler catches any error too
            # Celery wraps the error in a SchedulingError (Scheduler.apply_async): the one it
            # raised while handling the broker's is the one worth naming.
            cause = error.__context__ or error
            if not isinstance(cause, BROKER_DOWN):
                # Not the broker (an entry that cannot be sent): logged as Celery does, and the
                # other entries go on.
                logger.exception("Message Error: %s", error)
                return
            outage.BROKER.failed(cause)
            self._missed[entry.name] = entry
            return
        outage.BROKER.succeeded()
        self._missed.pop(entry.name, None)
        missed, self._missed = self._missed, {}
        for late in missed.values():
            self.apply_entry(late, producer=producer)
