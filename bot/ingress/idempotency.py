"""Exactly-once handling of a Slack delivery, keyed by its `event_id` (commands: `trigger_id`).

The record layout is Powertools idempotency's (table key `id`, TTL attribute `expiration`,
`status` INPROGRESS → COMPLETED, `in_progress_expiration` in epoch milliseconds), written by
hand so the ack path pays for one conditional put and one update and nothing else:

- `claim` is a conditional put: it succeeds for a new key, an expired record, or a claim
  whose invocation died (in progress past `in_progress_expiration`). Otherwise the delivery
  is a duplicate, completed or still being handled, and is acknowledged without work.
- `complete` marks the work done; `release` deletes the claim when the work failed, so
  Slack's retry of the same event goes through. A `complete` that fails is only logged:
  the work was done, and the claim turns duplicates away until `in_progress_expiration`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from bot.aws_clients import LazyClient
from bot.observability import service_logger

logger = service_logger()

IN_PROGRESS = "INPROGRESS"
COMPLETED = "COMPLETED"


class IdempotencyUnavailable(RuntimeError):
    """The idempotency table could not be read or written; the delivery must be retried."""


class IdempotencyStore(Protocol):
    def claim(self, key: str) -> bool:
        """True when this caller now owns `key`; False for a duplicate delivery."""
        ...

    def complete(self, key: str) -> None: ...

    def release(self, key: str) -> None: ...


def run_once(store: IdempotencyStore, key: str, action: Callable[[], object]) -> bool:
    """Run `action` unless `key` was already claimed. True when it ran.

    When `action` raises, the claim is released and the error propagates, so a retry of
    the same delivery runs it again. Failing to mark the claim completed is only logged.
    """
    if not store.claim(key):
        return False
    try:
        action()
    except BaseException:
        store.release(key)
        raise
    try:
        store.complete(key)
    except IdempotencyUnavailable as e:
        # The action ran (the job is queued): reporting a failure would be wrong.
        logger.warning("key=<%s> | claim not marked completed: %s", key, e)
    return True


class DynamoDBIdempotency:
    def __init__(
        self,
        table_name: str,
        *,
        ttl_s: int = 3600,
        in_progress_expiry_s: int = 30,
        client: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._table = table_name
        self._ttl_s = ttl_s
        self._in_progress_expiry_s = in_progress_expiry_s
        self._client = client or LazyClient("dynamodb")
        self._clock = clock

    def claim(self, key: str) -> bool:
        now = self._clock()
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    "id": {"S": key},
                    "status": {"S": IN_PROGRESS},
                    "expiration": {"N": str(int(now) + self._ttl_s)},
                    "in_progress_expiration": {
                        "N": str(int((now + self._in_progress_expiry_s) * 1000))
                    },
                },
                ConditionExpression=(
                    "attribute_not_exists(#id) OR #expiration < :now"
                    " OR (#status = :in_progress AND in_progress_expiration < :now_ms)"
                ),
                ExpressionAttributeNames={
                    "#id": "id",
                    "#status": "status",
                    "#expiration": "expiration",
                },
                ExpressionAttributeValues={
                    ":now": {"N": str(int(now))},
                    ":now_ms": {"N": str(int(now * 1000))},
                    ":in_progress": {"S": IN_PROGRESS},
                },
            )
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise IdempotencyUnavailable(f"claiming {key}: {e}") from e
        except BotoCoreError as e:
            raise IdempotencyUnavailable(f"claiming {key}: {e}") from e
        return True

    def complete(self, key: str) -> None:
        self._call(
            "update_item",
            key,
            UpdateExpression="SET #status = :completed REMOVE in_progress_expiration",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":completed": {"S": COMPLETED}},
        )

    def release(self, key: str) -> None:
        self._call("delete_item", key)

    def _call(self, operation: str, key: str, **kwargs: Any) -> None:
        try:
            getattr(self._client, operation)(
                TableName=self._table, Key={"id": {"S": key}}, **kwargs
            )
        except (ClientError, BotoCoreError) as e:
            raise IdempotencyUnavailable(f"{operation} {key}: {e}") from e


class LocalIdempotency:
    """The same contract in memory, for one process (the ack benchmark, tests)."""

    def __init__(self) -> None:
        self._status: dict[str, str] = {}
        self._lock = threading.Lock()

    def claim(self, key: str) -> bool:
        with self._lock:
            if key in self._status:
                return False
            self._status[key] = IN_PROGRESS
            return True

    def complete(self, key: str) -> None:
        with self._lock:
            self._status[key] = COMPLETED

    def release(self, key: str) -> None:
        with self._lock:
            self._status.pop(key, None)
