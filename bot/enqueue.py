"""Putting Jobs on the jobs queue, at most once per idempotency key."""

from __future__ import annotations

import threading
from typing import Any, Protocol

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from bot.idempotency import IdempotencyStore, run_once
from bot.job import Job


class EnqueueFailed(RuntimeError):
    """The queue did not accept the job; the caller must report failure so it is retried."""


class JobQueue(Protocol):
    def send(self, job: Job) -> None: ...


class SqsJobQueue:
    def __init__(self, queue_url: str, *, client: Any = None) -> None:
        self._queue_url = queue_url
        self._client = client or boto3.client("sqs")

    def send(self, job: Job) -> None:
        try:
            self._client.send_message(
                QueueUrl=self._queue_url,
                MessageBody=job.to_json(),
                MessageAttributes={
                    "source": {"DataType": "String", "StringValue": job.source},
                },
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
