"""Putting Jobs on the jobs queue, at most once per idempotency key."""

from __future__ import annotations

import os
import threading
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from bot.aws_clients import LazyClient
from bot.ingress.idempotency import IdempotencyStore, run_once
from bot.job import Job


class EnqueueFailed(RuntimeError):
    """The queue did not accept the job; the caller must report failure so it is retried."""


class JobQueue(Protocol):
    def send(self, job: Job) -> None: ...


class SqsJobQueue:
    def __init__(self, queue_url: str, *, client: Any = None) -> None:
        self._queue_url = queue_url
        self._client = client or LazyClient("sqs")

    def send(self, job: Job) -> None:
        # The invocation's X-Ray trace travels with the job, so the worker's log lines can
        # be joined to the request that queued it (Lambda sets this for each invocation).
        trace = os.environ.get("_X_AMZN_TRACE_ID")
        system = {"AWSTraceHeader": {"DataType": "String", "StringValue": trace}} if trace else {}
        try:
            self._client.send_message(
                QueueUrl=self._queue_url,
                MessageBody=job.to_json(),
                MessageAttributes={
                    "source": {"DataType": "String", "StringValue": job.source},
                },
                **({"MessageSystemAttributes": system} if system else {}),
            )
        except (ClientError, BotoCoreError) as e:
            raise EnqueueFailed(f"job {job.job_id} was not queued: {e}") from e


class LocalJobQueue:
    """Jobs kept in memory, for one process (the ack benchmark)."""

    def __init__(self) -> None:
        self.jobs: list[Job] = []
        self._lock = threading.Lock()

    def send(self, job: Job) -> None:
        with self._lock:
            self.jobs.append(job)


def enqueue_once(job: Job, queue: JobQueue, idempotency: IdempotencyStore) -> bool:
    """Queue `job` unless its job_id was already queued (or is being queued). True when sent."""
    return run_once(idempotency, job.job_id, lambda: queue.send(job))
