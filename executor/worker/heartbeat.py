"""Keeps running jobs' messages out of sight: one thread extends them all, in batches.

A message whose visibility lapses while its job still runs would be handed to another
worker and answered twice; a worker that dies stops extending, so its messages come back
after at most `visibility_s` and are taken over.
"""

from __future__ import annotations

import threading

from bot.observability import service_logger
from executor.worker.queue import JobsQueue, QueueMessage

logger = service_logger()


class Heartbeat:
    def __init__(self, queue: JobsQueue, *, visibility_s: int, interval_s: float) -> None:
        self._queue = queue
        self._visibility_s = visibility_s
        self._interval_s = interval_s
        self._lock = threading.Lock()
        self._messages: dict[str, QueueMessage] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self._interval_s + 5)

    def track(self, message: QueueMessage) -> bool:
        """Track `message`; False when it is tracked already: SQS handed it out again while
        its job runs here (an extension came too late). Its newer receipt handle replaces
        the older one, which SQS no longer honours."""
        with self._lock:
            known = message.message_id in self._messages
            self._messages[message.message_id] = message
            return not known

    def untrack(self, message: QueueMessage) -> QueueMessage:
        """Stop tracking `message`; returns its latest receipt, the one to delete it with."""
        with self._lock:
            return self._messages.pop(message.message_id, message)

    def in_flight(self) -> list[QueueMessage]:
        with self._lock:
            return list(self._messages.values())

    def release_all(self) -> list[QueueMessage]:
        """Make every tracked message visible again now (shutdown): another worker takes
        them over. Returns what was released."""
        with self._lock:
            messages, self._messages = list(self._messages.values()), {}
        if messages:
            self._queue.change_visibility_batch(messages, 0)
        return messages

    def beat(self) -> None:
        """Extend every tracked message once."""
        messages = self.in_flight()
        if not messages:
            return
        try:
            refused = self._queue.change_visibility_batch(messages, self._visibility_s)
        except Exception:
            logger.exception("heartbeat failed for %s messages", len(messages))
            return
        for message_id in refused:
            logger.warning("message_id=<%s> | visibility could not be extended", message_id)

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            self.beat()
