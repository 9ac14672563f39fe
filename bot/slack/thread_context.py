"""The context of each assistant thread (the channel the person is viewing beside it), kept
where Bolt's `Assistant` middleware reads and writes it: an `AssistantThreadContextStore`.

Bolt's default store keeps the context in the metadata of the bot's first reply, read and
written through the Web API (conversations.replies, chat.update) before the ack, and finds
nothing until the bot has replied. This one keeps a small item in the ingress's idempotency
table, which the ingress already reads and writes: one PutItem when a thread starts or its
context changes, one GetItem for a question asked in an assistant thread. Its keys have
their own prefix, so they never meet an event id or a trigger id, and its TTL is refreshed
on every save; a thread left alone for longer is answered without its context until the
person switches channels again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from slack_bolt.context.assistant.thread_context import AssistantThreadContext
from slack_bolt.context.assistant.thread_context_store.store import AssistantThreadContextStore

from bot.aws_clients import LazyClient
from bot.observability import service_logger
from bot.slack.questions import viewed_context

logger = service_logger()

KEY_PREFIX = "assistant_thread_context#"
TTL_S = 30 * 24 * 3600


class DynamoDBThreadContexts(AssistantThreadContextStore):
    def __init__(
        self,
        table_name: str,
        *,
        ttl_s: int = TTL_S,
        client: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._table = table_name
        self._ttl_s = ttl_s
        self._client = client or LazyClient("dynamodb")
        self._clock = clock

    def save(self, *, channel_id: str, thread_ts: str, context: dict[str, str]) -> None:
        # An empty context is saved too: it replaces the channel the person left.
        fields = viewed_context(context) or {}
        self._client.put_item(
            TableName=self._table,
            Item={
                "id": {"S": _key(channel_id, thread_ts)},
                "context": {"M": {name: {"S": value} for name, value in fields.items()}},
                "expiration": {"N": str(int(self._clock()) + self._ttl_s)},
            },
        )

    def find(self, *, channel_id: str, thread_ts: str) -> AssistantThreadContext | None:
        """The thread's context; None too when the table cannot be read (the question is
        still answered, only without knowing the channel viewed)."""
        key = _key(channel_id, thread_ts)
        try:
            item = self._client.get_item(TableName=self._table, Key={"id": {"S": key}}
                                         ).get("Item")
        except (ClientError, BotoCoreError) as e:
            logger.warning("key=<%s> | cannot read the assistant thread's context: %s", key, e)
            return None
        # DynamoDB's TTL deletes an expired item some time after it expires.
        if not item or int(item["expiration"]["N"]) < self._clock():
            return None
        fields = {name: value["S"] for name, value in item["context"]["M"].items()}
        return AssistantThreadContext(fields) if fields.get("channel_id") else None


class LocalThreadContexts(AssistantThreadContextStore):
    """The same store in memory, for one process (the ack benchmark)."""

    def __init__(self) -> None:
        self._contexts: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()

    def save(self, *, channel_id: str, thread_ts: str, context: dict[str, str]) -> None:
        with self._lock:
            self._contexts[_key(channel_id, thread_ts)] = viewed_context(context) or {}

    def find(self, *, channel_id: str, thread_ts: str) -> AssistantThreadContext | None:
        with self._lock:
            fields = self._contexts.get(_key(channel_id, thread_ts))
        return AssistantThreadContext(fields) if fields else None


def _key(channel_id: str, thread_ts: str) -> str:
    return f"{KEY_PREFIX}{channel_id}:{thread_ts}"
