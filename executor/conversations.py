"""Conversation memory: the turns of a thread, kept in CONVERSATIONS_TABLE for follow-ups.

Items are keyed by `conversation_id` (S) and `turn` (N, 1, 2, 3...), carry the question,
the SQL run and a short answer, and expire through DynamoDB's TTL on `expiration`
(default 7 days). `history()` hands the engine only the most recent turns that fit a
token budget, so a long thread never floods the model's context.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.exceptions import ClientError

from bot.observability import service_logger
from executor.engine import Turn

logger = service_logger()

# The same TTL attribute as the other tables (template.yaml).
TTL_ATTRIBUTE = "expiration"
DEFAULT_TTL_DAYS = 7
DEFAULT_TTL_S = DEFAULT_TTL_DAYS * 24 * 3600
DEFAULT_TOKEN_BUDGET = 2000
# The most turns read per lookup; the token budget usually stops well before.
MAX_TURNS_READ = 20
# A stored answer is a reminder for follow-ups, not the whole reply.
MAX_ANSWER_CHARS = 1000
_CHARS_PER_TOKEN = 4
_APPEND_ATTEMPTS = 5


def estimate_tokens(turn: Turn) -> int:
    """A cheap token estimate (about four characters a token) for budgeting context."""
    chars = len(turn.question) + len(turn.answer) + sum(len(sql) for sql in turn.sql)
    return chars // _CHARS_PER_TOKEN + 1


class ConversationStore:
    def __init__(
        self,
        table_name: str,
        *,
        client: Any = None,
        ttl_s: int = DEFAULT_TTL_S,
        token_budget: int = DEFAULT_TOKEN_BUDGET,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.table_name = table_name
        self.client = client if client is not None else boto3.client("dynamodb")
        self.ttl_s = ttl_s
        self.token_budget = token_budget
        self.clock = clock

    def history(self, conversation_id: str) -> list[Turn]:
        """The latest turns, oldest first, whose estimated tokens fit the budget."""
        turns: list[Turn] = []
        used = 0
        for item in self._latest_items(conversation_id):
            turn = _turn_from_item(item)
            used += estimate_tokens(turn)
            if used > self.token_budget:
                break
            turns.append(turn)
        return list(reversed(turns))

    def append(self, conversation_id: str, turn: Turn, *, job_id: str) -> int:
        """Store `turn` after the latest one; return its number. A job's turn is stored
        once: if the latest turn already came from `job_id` (a redelivered job), it is kept."""
        for _ in range(_APPEND_ATTEMPTS):
            # Expired turns count too: their numbers stay taken until DynamoDB removes them.
            latest = self._latest_items(conversation_id, limit=1, live_only=False)
            if latest and latest[0].get("job_id", {}).get("S") == job_id:
                return int(latest[0]["turn"]["N"])
            number = int(latest[0]["turn"]["N"]) + 1 if latest else 1
            try:
                self.client.put_item(
                    TableName=self.table_name,
                    Item=self._item(conversation_id, number, turn, job_id),
                    ConditionExpression="attribute_not_exists(#turn)",
                    ExpressionAttributeNames={"#turn": "turn"},
                )
                return number
            except ClientError as e:
                if e.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
                logger.debug("job_id=<%s> | turn %s taken, retrying", job_id, number)
        raise RuntimeError(f"could not append a turn to {conversation_id} (busy conversation)")

    def _latest_items(
        self, conversation_id: str, limit: int = MAX_TURNS_READ, *, live_only: bool = True
    ) -> list[Any]:
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "conversation_id = :c",
            "ExpressionAttributeValues": {":c": {"S": conversation_id}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if live_only:
            # DynamoDB deletes expired items lazily (within days), so filter them out.
            request["FilterExpression"] = "#ttl > :now"
            request["ExpressionAttributeNames"] = {"#ttl": TTL_ATTRIBUTE}
            request["ExpressionAttributeValues"][":now"] = {"N": str(int(self.clock()))}
        return list(self.client.query(**request).get("Items", []))

    def _item(self, conversation_id: str, number: int, turn: Turn, job_id: str) -> dict[str, Any]:
        answer = turn.answer
        if len(answer) > MAX_ANSWER_CHARS:
            answer = answer[: MAX_ANSWER_CHARS - 1] + "…"
        item: dict[str, Any] = {
            "conversation_id": {"S": conversation_id},
            "turn": {"N": str(number)},
            "job_id": {"S": job_id},
            "question": {"S": turn.question},
            "answer": {"S": answer},
            TTL_ATTRIBUTE: {"N": str(int(self.clock()) + self.ttl_s)},
        }
        if turn.sql:
            item["sql"] = {"L": [{"S": sql} for sql in turn.sql]}
        return item


def _turn_from_item(item: dict[str, Any]) -> Turn:
    return Turn(
        question=item["question"]["S"],
        sql=[entry["S"] for entry in item.get("sql", {}).get("L", [])],
        answer=item.get("answer", {}).get("S", ""),
    )
