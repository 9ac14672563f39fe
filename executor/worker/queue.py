"""The jobs queue as the worker uses it: receive, delete, change visibility."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import boto3

# SQS's own limit on entries per batch call.
SQS_BATCH_MAX = 10


@dataclass(frozen=True)
class QueueMessage:
    """A message of the jobs queue as SQS handed it out (its body is a Job's JSON)."""

    message_id: str
    receipt_handle: str
    body: str
    # How many times SQS has handed this message out, this time included.
    receive_count: int
    # When the message was sent, epoch seconds (for queue-to-reply latency).
    sent_at: float
    # The X-Ray trace of the request that queued it, when there was one.
    trace_header: str | None = None


class JobsQueue(Protocol):
    """What the worker needs from its queue: SQS, or an in-memory stand-in in benchmarks."""

    queue_url: str

    def receive(self, max_messages: int, wait_s: int) -> list[QueueMessage]: ...

    def delete(self, message: QueueMessage) -> None: ...

    def change_visibility(self, message: QueueMessage, seconds: int) -> None: ...

    def change_visibility_batch(self, messages: list[QueueMessage], seconds: int) -> list[str]:
        """Set the visibility of many messages; return the ids that were refused."""
        ...


class SqsQueue:
    def __init__(self, queue_url: str, *, client: Any = None) -> None:
        self.queue_url = queue_url
        self.client = client if client is not None else boto3.client("sqs")

    def receive(self, max_messages: int, wait_s: int) -> list[QueueMessage]:
        response = self.client.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max_messages,
            WaitTimeSeconds=wait_s,
            MessageSystemAttributeNames=[
                "ApproximateReceiveCount", "SentTimestamp", "AWSTraceHeader"
            ],
        )
        return [_message(raw) for raw in response.get("Messages", [])]

    def delete(self, message: QueueMessage) -> None:
        self.client.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message.receipt_handle)

    def change_visibility(self, message: QueueMessage, seconds: int) -> None:
        self.client.change_message_visibility(
            QueueUrl=self.queue_url,
            ReceiptHandle=message.receipt_handle,
            VisibilityTimeout=seconds,
        )

    def change_visibility_batch(self, messages: list[QueueMessage], seconds: int) -> list[str]:
        """Set the visibility of many messages; return the ids SQS refused (gone, expired)."""
        failed: list[str] = []
        for start in range(0, len(messages), SQS_BATCH_MAX):
            chunk = messages[start : start + SQS_BATCH_MAX]
            response = self.client.change_message_visibility_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {
                        "Id": str(index),
                        "ReceiptHandle": message.receipt_handle,
                        "VisibilityTimeout": seconds,
                    }
                    for index, message in enumerate(chunk)
                ],
            )
            failed += [chunk[int(entry["Id"])].message_id for entry in response.get("Failed", [])]
        return failed


def _message(raw: dict[str, Any]) -> QueueMessage:
    attributes = raw.get("Attributes", {})
    return QueueMessage(
        message_id=raw["MessageId"],
        receipt_handle=raw["ReceiptHandle"],
        body=raw.get("Body", ""),
        receive_count=int(attributes.get("ApproximateReceiveCount", "1")),
        sent_at=int(attributes.get("SentTimestamp", "0")) / 1000,
        trace_header=attributes.get("AWSTraceHeader"),
    )
