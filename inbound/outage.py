"""A dependency's outage as one process sees it: reported once when it begins and once when it
ends, with the tries in between spaced out (exponential backoff) and logged at debug only.

Without it, beat logged a traceback for every task it could not send while Redis was down (about
290 lines a minute), and the dispatcher a warning per event. The memory is the process's own, not
the cache's: the cache is the same Redis as the broker, so it is gone exactly when it would be
asked. Each process (beat, each web and worker process) thus reports an outage once.
"""

import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)


class Outage:
    """Whether a dependency answered the last try, and when to try it again if it did not."""

    def __init__(
        self,
        name: str,
        *,
        first_delay: float = 1.0,
        max_delay: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        # The cap bounds how late a recovery is noticed: beat and the dispatcher try again at
        # most `max_delay` seconds after the dependency is back.
        self.name = name
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.clock = clock
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._delay = 0.0
        self._next_try = 0.0

    def may_try(self) -> bool:
        """Whether to try the dependency now: always while it is up; during an outage, once the
        backoff delay since the last failed try has passed."""
        with self._lock:
            return self._down_since is None or self.clock() >= self._next_try

    def failed(self, error: BaseException) -> None:
        """A try failed: the first failure of an outage is logged (a warning, the error's type
        only: a broker URL in its message may carry a password), the others at debug."""
        with self._lock:
            now = self.clock()
            if self._down_since is None:
                self._down_since, self._delay = now, self.first_delay
                logger.warning(
                    "%s unreachable (%s): trying again at most every %g s until it is back",
                    self.name,
                    type(error).__name__,
                    self.max_delay,
                )
            else:
                self._delay = min(self._delay * 2, self.max_delay)
                logger.debug("%s still unreachable (%s)", self.name, type(error).__name__)
            self._next_try = now + self._delay

    def succeeded(self) -> None:
        """A try succeeded: the end of an outage is logged once."""
        if self._down_since is None:
            return  # the usual case, without taking the lock
        with self._lock:
            if self._down_since is None:
                return
            logger.info(
                "%s reachable again after %.0f s", self.name, self.clock() - self._down_since
            )
            self._down_since = None

    def forget(self) -> None:
        """Presume the dependency up again without a try (its address changed: the tests)."""
        with self._lock:
            self._down_since = None


# The Celery broker, as the dispatcher (inbound.services), beat (config.beat) and /healthz see it.
BROKER = Outage("broker")
