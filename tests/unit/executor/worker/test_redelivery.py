"""A message SQS hands out again while its job still runs in this worker (its visibility
lapsed before the heartbeat extended it) is not run a second time: two runs of one job
would both deliver, and the thread would get its chart or its note twice."""

from __future__ import annotations

import threading
import time

from bot.delivery import Channels
from bot.job_store import JobStore
from executor.worker.config import WorkerConfig
from executor.worker.metrics import WorkerMetrics
from executor.worker.queue import QueueMessage
from executor.worker.runner import DELETE, JobRunner, Outcome
from executor.worker.service import Worker
from tests.support.scripted_engine import ScriptedEngine
from tests.support.worker import wait_for


class RedeliveringQueue:
    """Hands out one message, then the same message again under a new receipt handle."""

    queue_url = "memory://jobs"

    def __init__(self, receipts: list[str]) -> None:
        self._receipts = receipts
        self.deleted: list[str] = []
        self.extended: list[str] = []

    def receive(self, max_messages: int, wait_s: int) -> list[QueueMessage]:
        time.sleep(0.01)  # a long poll, shortened
        if not self._receipts:
            return []
        receipt = self._receipts.pop(0)
        return [QueueMessage(message_id="m1", receipt_handle=receipt, body="{}",
                             receive_count=int(receipt[-1]), sent_at=time.time())]

    def delete(self, message: QueueMessage) -> None:
        self.deleted.append(message.receipt_handle)

    def change_visibility(self, message: QueueMessage, seconds: int) -> None: ...

    def change_visibility_batch(self, messages: list[QueueMessage], seconds: int) -> list[str]:
        self.extended += [m.receipt_handle for m in messages]
        return []


class HeldRunner(JobRunner):
    """Runs each message by waiting until `release` is set."""

    def __init__(self, config: WorkerConfig) -> None:
        super().__init__(ScriptedEngine(), JobStore("jobs", client=object()), config=config,
                         metrics=WorkerMetrics(None), channels=Channels({}))
        self.release = threading.Event()
        self.runs: list[int] = []

    def run(self, message: QueueMessage) -> Outcome:
        self.runs.append(message.receive_count)
        assert self.release.wait(10)
        return DELETE


def test_a_message_handed_out_again_while_its_job_runs_is_run_once_and_deleted_by_its_newest_receipt() -> None:  # noqa: E501
    # GIVEN a worker with free job threads, and a queue that hands its message out twice
    config = WorkerConfig(concurrency=2, wait_time_s=1, heartbeat_s=1.0)
    jobs_queue = RedeliveringQueue(["rh-1", "rh-2"])
    runner = HeldRunner(config)
    worker = Worker(jobs_queue, runner, config)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        # WHEN the second receipt arrives while the first run still works
        wait_for(lambda: not jobs_queue._receipts, 5, "both receipts handed out")
        wait_for(lambda: "rh-2" in jobs_queue.extended, 5, "a heartbeat on the new receipt")
        runner.release.set()
        wait_for(lambda: bool(jobs_queue.deleted), 5, "the message deleted")
    finally:
        runner.release.set()
        worker.stop()
        thread.join(10)
    # THEN the job ran once, the heartbeat moved to the newer receipt, and the message was
    # deleted with it (SQS does not honour the older one)
    assert runner.runs == [1]
    assert jobs_queue.deleted == ["rh-2"]
    assert worker.heartbeat.in_flight() == []
