"""The worker under statements that are refused or hit the memory cap: with several jobs
running at once on one shared DuckDB warehouse, each ordinary job gets its own answer,
each bad one a clear error in its thread, and the worker process stays flat."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import boto3
import pytest

from bot.answer import Answer
from bot.job_store import DONE, FAILED, JobStore
from bot.slack.replier import web_client
from executor.config import DEFAULT_INPUT
from executor.engine import Request
from executor.warehouse.guarded import run_guarded
from executor.warehouse.isolated import IsolatedDuckDBWarehouse
from executor.worker.config import WorkerConfig
from executor.worker.metrics import WorkerMetrics
from executor.worker.queue import QueueMessage
from executor.worker.runner import JobRunner
from executor.worker.service import Worker
from tests.support.aws import AwsStack
from tests.support.memory import CONCAT_BLOWUP, WORKER_BOUND_MB, rss_growth
from tests.support.slack_api import SlackApiStandIn
from tests.support.worker import slack_channels, slack_job, wait_for

REFUSED = "SELECT length(repeat('x', 4000000000)) AS n"


class MemoryQueue:
    """The jobs queue in memory: receive waits on a condition, never a fixed sleep."""

    queue_url = "memory://jobs"

    def __init__(self) -> None:
        self._ready: list[QueueMessage] = []
        self._changed = threading.Condition()
        self.deleted: list[str] = []

    def send(self, body: str) -> None:
        with self._changed:
            self._ready.append(
                QueueMessage(
                    message_id=f"m{len(self._ready)}",
                    receipt_handle="rh",
                    body=body,
                    receive_count=1,
                    sent_at=time.time(),
                )
            )
            self._changed.notify_all()

    def receive(self, max_messages: int, wait_s: int) -> list[QueueMessage]:
        with self._changed:
            self._changed.wait_for(lambda: bool(self._ready), timeout=wait_s)
            taken, self._ready = self._ready[:max_messages], self._ready[max_messages:]
            return taken

    def delete(self, message: QueueMessage) -> None:
        self.deleted.append(message.message_id)

    def change_visibility(self, message: QueueMessage, seconds: int) -> None:
        """Visibility is only the heartbeat's concern here: nothing is redelivered."""

    def change_visibility_batch(self, messages: list[QueueMessage], seconds: int) -> list[str]:
        return []


class SqlEngine:
    """Answers a job whose question is SQL through the guarded path, as a count."""

    def __init__(self, warehouse: IsolatedDuckDBWarehouse) -> None:
        self.warehouse = warehouse

    def answer(self, request: Request) -> Answer:
        result = run_guarded(self.warehouse, request.question, max_rows=5)
        return Answer(text=f"n = {result.rows[0][0]}", sql=[request.question])


@pytest.fixture(scope="module")
def warehouse() -> Iterator[IsolatedDuckDBWarehouse]:
    warehouse = IsolatedDuckDBWarehouse(DEFAULT_INPUT, memory_limit="128MB")
    yield warehouse
    warehouse.close()


def test_bad_statements_fail_alone_while_concurrent_jobs_are_answered(
    aws_stack: AwsStack, slack_api: SlackApiStandIn, warehouse: IsolatedDuckDBWarehouse
) -> None:
    # GIVEN a worker running four jobs at once on one shared warehouse
    dynamodb = boto3.client("dynamodb")
    jobs = JobStore(aws_stack.jobs_table, client=dynamodb)
    config = WorkerConfig(
        concurrency=4, wait_time_s=1, progress_interval_s=0.0, heartbeat_s=1.0, grace_s=10.0
    )
    runner = JobRunner(
        SqlEngine(warehouse),
        jobs,
        config=config,
        metrics=WorkerMetrics(None),
        channels=slack_channels(web_client(slack_api.token, slack_api.url)),
    )
    queue = MemoryQueue()
    worker = Worker(queue, runner, config)
    # AND eight ordinary jobs queued around one refused statement and one past the cap
    ordinary = {
        slack_job(f"SELECT count(*) AS n FROM users WHERE user_id <= {k * 100}"): k * 100
        for k in range(1, 9)
    }
    refused, heavy = slack_job(REFUSED), slack_job(CONCAT_BLOWUP)
    everything = [*list(ordinary)[:4], refused, heavy, *list(ordinary)[4:]]
    for job in everything:
        queue.send(job.to_json())
    # WHEN the worker runs them
    service = threading.Thread(target=worker.run)
    with rss_growth() as growth:
        service.start()
        try:
            wait_for(lambda: len(queue.deleted) == len(everything), 120, "every job to finish")
        finally:
            worker.stop()
            service.join(30)
    # THEN every ordinary job was answered with its own count
    for job, count in ordinary.items():
        record = jobs.get(job.job_id)
        assert record is not None and record.status == DONE, job.text
        assert record.answer is not None and record.answer["text"] == f"n = {count}"
    # AND each bad job failed with the clear one-line reason, shown in its thread
    refused_record, heavy_record = jobs.get(refused.job_id), jobs.get(heavy.job_id)
    assert refused_record is not None and refused_record.status == FAILED
    assert refused_record.error is not None and refused_record.error.startswith(
        "function REPEAT is not allowed here: it would build 4,000,000,000 characters"
    )
    assert heavy_record is not None and heavy_record.status == FAILED
    assert heavy_record.error is not None and heavy_record.error.startswith(
        "query stopped: it needs more memory than the warehouse allows"
    )
    # (posted in place of the status line, or over the placeholder where there is one)
    shown = " ".join(str(call.args) for method in ("chat.postMessage", "chat.update")
                     for call in slack_api.calls_to(method))
    assert "function REPEAT is not allowed" in shown and "query stopped" in shown
    # AND the worker process itself stayed flat
    assert growth.mb < WORKER_BOUND_MB
