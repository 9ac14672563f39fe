"""`GET /health`'s verdict: a poll loop whose every receive fails is not healthy."""

from __future__ import annotations

import threading
import time

import pytest

from bot.delivery import Channels
from bot.job_store import JobStore
from executor.worker import service
from executor.worker.config import WorkerConfig
from executor.worker.metrics import WorkerMetrics
from executor.worker.queue import QueueMessage
from executor.worker.runner import JobRunner
from executor.worker.service import Worker
from tests.support.scripted_engine import ScriptedEngine
from tests.support.worker import wait_for


class UnreachableQueue:
    """A jobs queue whose receives fail until `reachable` is set."""

    queue_url = "https://sqs.invalid/jobs"

    def __init__(self) -> None:
        self.reachable = threading.Event()
        self.receives = 0

    def receive(self, max_messages: int, wait_s: int) -> list[QueueMessage]:
        self.receives += 1
        if not self.reachable.is_set():
            raise ConnectionError("no route to SQS")
        time.sleep(0.01)  # a long poll, shortened
        return []

    def delete(self, message: QueueMessage) -> None: ...

    def change_visibility(self, message: QueueMessage, seconds: int) -> None: ...

    def change_visibility_batch(self, messages: list[QueueMessage], seconds: int) -> list[str]:
        return []


def test_health_turns_unhealthy_while_every_receive_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(service, "POLL_ERROR_PAUSE_S", 0.01)
    now = [0.0]
    config = WorkerConfig(concurrency=1, wait_time_s=1)
    runner = JobRunner(ScriptedEngine(), JobStore("jobs", client=object()), config=config,
                       metrics=WorkerMetrics(None), channels=Channels({}))
    jobs_queue = UnreachableQueue()
    worker = Worker(jobs_queue, runner, config, clock=lambda: now[0])
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        # GIVEN a poll loop that keeps coming round, but every receive fails
        wait_for(lambda: jobs_queue.receives > 2, 5, "failed receives")
        # WHEN longer than the wait plus the allowance has passed
        now[0] = 1000.0
        seen = jobs_queue.receives
        wait_for(lambda: jobs_queue.receives > seen + 2, 5, "more failed receives")
        # THEN /health says so
        assert worker.health()[0] is False
        # AND once receives succeed again it is healthy
        jobs_queue.reachable.set()
        wait_for(lambda: worker.health()[0], 5, "a healthy worker")
    finally:
        worker.stop()
        thread.join(timeout=10)
