"""The worker service: long-poll the jobs queue, run up to `concurrency` jobs at once,
keep their messages hidden while they run, and shut down without losing any.

One poll thread asks SQS for at most as many messages as there are free job threads, so
a message is never received before a thread can start on it (it would sit invisible,
unworked). There are `max_in_flight` job threads: `concurrency` engines run at once, and
the prefetched jobs beyond them do their set-up and finishing I/O meanwhile, so an engine
slot rarely waits on DynamoDB or Slack. On `stop()` (SIGTERM) polling ends, running jobs
get `grace_s` to finish, and what is still running is released (visibility 0) so another
task takes it over.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from bot.observability import service_logger
from executor.worker.config import WorkerConfig
from executor.worker.heartbeat import Heartbeat
from executor.worker.queue import JobsQueue, QueueMessage
from executor.worker.runner import Action, JobRunner, Outcome

logger = service_logger()

# After a failed receive (SQS throttling, network), wait this long before polling again.
POLL_ERROR_PAUSE_S = 2.0
# /health turns unhealthy when the poll loop has not come round for this long past a wait.
HEALTH_SLACK_S = 30.0


class Worker:
    def __init__(
        self,
        jobs_queue: JobsQueue,
        runner: JobRunner,
        config: WorkerConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.queue = jobs_queue
        self.runner = runner
        self.config = config
        self.clock = clock
        self.heartbeat = Heartbeat(
            jobs_queue, visibility_s=config.visibility_s, interval_s=config.heartbeat_s
        )
        self._work: queue.Queue[QueueMessage | None] = queue.Queue()
        self._stopping = threading.Event()
        self._running = threading.Event()
        self._busy = 0
        self._changed = threading.Condition()
        self._last_poll = clock()

    # ---- control ---------------------------------------------------------------------

    def stop(self) -> None:
        """Stop polling and shut down (what SIGTERM calls); `run()` returns when done."""
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()

    def health(self) -> tuple[bool, dict[str, Any]]:
        age = self.clock() - self._last_poll
        healthy = (
            self._running.is_set()
            and not self._stopping.is_set()
            and age < self.config.wait_time_s + HEALTH_SLACK_S
        )
        return healthy, {
            "last_poll_age_s": round(age, 1),
            "jobs_in_flight": self._busy,
            "concurrency": self.config.concurrency,
            "max_in_flight": self.config.max_in_flight,
            "jobs": dict(self.runner.metrics.counts),
        }

    # ---- the loop --------------------------------------------------------------------

    def run(self) -> None:
        """Poll and work until `stop()`, then shut down within the grace period."""
        threads = [
            threading.Thread(target=self._job_thread, name=f"job-{n}", daemon=True)
            for n in range(self.config.max_in_flight)
        ]
        for thread in threads:
            thread.start()
        self.heartbeat.start()
        self._running.set()
        logger.info("worker started: concurrency %s, queue %s", self.config.concurrency,
                    self.queue.queue_url)
        try:
            while not self._stopping.is_set():
                self._poll_once()
        finally:
            self._running.clear()
            self._shut_down(threads)

    def _poll_once(self) -> None:
        free = self._wait_for_free_threads()
        if free == 0 or self._stopping.is_set():
            # Every thread busy is a live loop; only failing receives make it unhealthy.
            self._last_poll = self.clock()
            return
        try:
            messages = self.queue.receive(min(free, self.config.batch_size),
                                          self.config.wait_time_s)
        except Exception:
            logger.exception("receiving from the jobs queue failed")
            self._stopping.wait(POLL_ERROR_PAUSE_S)
            return
        self._last_poll = self.clock()
        if self._stopping.is_set() and messages:
            # Received while shutting down: hand them straight back (if that fails, they
            # come back after the queue's visibility timeout).
            try:
                self.queue.change_visibility_batch(messages, 0)
            except Exception:
                logger.exception("could not hand back %s messages", len(messages))
            return
        for message in messages:
            if not self.heartbeat.track(message):
                # Its job already runs here: a second run would answer it twice.
                logger.warning("message_id=<%s> | handed out again while its job runs "
                               "here: left to that run", message.message_id)
                continue
            with self._changed:
                self._busy += 1
            self._work.put(message)

    def _wait_for_free_threads(self) -> int:
        with self._changed:
            self._changed.wait_for(
                lambda: self._busy < self.config.max_in_flight or self._stopping.is_set(),
                timeout=1.0,
            )
            return self.config.max_in_flight - self._busy

    def _job_thread(self) -> None:
        while (message := self._work.get()) is not None:
            try:
                outcome = self.runner.run(message)
            except Exception:
                logger.exception("message_id=<%s> | job runner failed", message.message_id)
                outcome = Outcome(Action.RETRY, self.config.backoff_base_s)
            self._apply(self.heartbeat.untrack(message), outcome)
            with self._changed:
                self._busy -= 1
                self._changed.notify_all()

    def _apply(self, message: QueueMessage, outcome: Outcome) -> None:
        try:
            if outcome.action is Action.DELETE:
                self.queue.delete(message)
            elif outcome.action is Action.RETRY:
                self.queue.change_visibility(message, outcome.delay_s)
        except Exception:
            logger.exception("message_id=<%s> | could not %s the message", message.message_id,
                             outcome.action.value)

    def _shut_down(self, threads: list[threading.Thread]) -> None:
        logger.info("stopping: %s jobs running, grace %.0f s", self._busy, self.config.grace_s)
        with self._changed:
            finished = self._changed.wait_for(lambda: self._busy == 0,
                                              timeout=self.config.grace_s)
        if not finished:
            released = self.heartbeat.release_all()
            logger.warning("grace period over: released %s running jobs to other workers",
                           len(released))
        self.heartbeat.stop()
        for _ in threads:
            self._work.put(None)
        logger.info("worker stopped")
