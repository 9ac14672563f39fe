"""A job's progress on its placeholder, whatever the chat platform: at most one edit per
interval, sent from a timer thread. Each platform's outbox says how a stage is shown
(`_show`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from bot.delivery import DeliveryError
from bot.observability import service_logger

logger = service_logger()


class ThrottledProgress:
    """Progress stages shown at most once per `interval_s`.

    Updates are sent from a timer thread, never from the caller's: the engine does not
    wait on the platform to report a stage. A stage reported too soon after the last update
    is held until the interval is over, and only the latest held stage is sent. Failures
    are logged, never raised: progress is a nicety.
    """

    def __init__(
        self,
        *,
        job_id: str,
        interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._job_id = job_id
        self._interval_s = interval_s
        self._clock = clock
        self._lock = threading.Lock()
        # Held while an update is on its way, so close() can wait it out: a late progress
        # update must never overwrite the final answer.
        self._sending = threading.Lock()
        self._next_at = float("-inf")
        self._pending: str | None = None
        self._timer: threading.Timer | None = None
        self._closed = False

    def __call__(self, stage: str) -> None:
        with self._lock:
            if self._closed:
                return
            self._pending = stage
            if self._timer is None:
                self._timer = threading.Timer(max(self._next_at - self._clock(), 0), self._flush)
                self._timer.daemon = True
                self._timer.start()

    def close(self) -> None:
        """Stop updating (the final answer is about to replace the placeholder)."""
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
        with self._sending:
            pass

    def _flush(self) -> None:
        with self._sending:
            with self._lock:
                stage, self._pending, self._timer = self._pending, None, None
                if stage is None or self._closed:
                    return
                self._next_at = self._clock() + self._interval_s
            try:
                self._show(stage)
            except DeliveryError as e:
                logger.warning("job_id=<%s> | progress update failed: %s", self._job_id, e)

    def _show(self, stage: str) -> None:
        raise NotImplementedError
