"""FEEDBACK_TABLE: the votes people give answers, whatever chat they came from.

Item layout (partition key `job_id`, sort key `user_id`, both S): `value` ("up" or
"down"), `voted_at` (ISO 8601 UTC), `team_id`, and what was voted on, copied from the
job's record in JOBS_TABLE when the vote is cast: `question`, `sql` (a list), `verified`,
`entry_id` (the verified entry that answered), `model_id`; a 👎 may carry a `reason` (one of
REASONS) and a free-text `comment`. One item per person per answer: voting again replaces
it, so every voter counts once and may change their mind.

The front doors (bot/slack/feedback.py) write through `Ballot`; `databot feedback` reads
the same table through `FeedbackStore.votes` and sums it with `tally`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from bot.aws_clients import LazyClient
from bot.config import Env, require
from bot.job import utc_now_iso
from bot.job_store import JobRecord, JobsConfig, JobStore

UP = "up"
DOWN = "down"
# What a 👎 can say was wrong, by stored value.
REASONS = {
    "wrong_numbers": "Wrong numbers",
    "wrong_question": "Wrong question understood",
    "too_slow": "Too slow",
    "other": "Other",
}
MAX_COMMENT_CHARS = 1000



def _serialize(value: str | bool | list[str]) -> dict[str, Any]:
    """A vote's field as a DynamoDB attribute (its fields are text, flags and SQL lists;
    boto3's general serializer would put boto3 on the ingress's cold start)."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, list):
        return {"L": [{"S": text} for text in value]}
    return {"S": value}


def _deserialize(attribute: dict[str, Any]) -> Any:
    [(kind, value)] = attribute.items()
    if kind == "L":
        return [_deserialize(element) for element in value]
    if kind in ("S", "BOOL"):
        return value
    raise ValueError(f"a vote holds no {kind} attributes")


@dataclass(frozen=True)
class Vote:
    job_id: str
    user_id: str
    value: str
    voted_at: str = ""
    team_id: str | None = None
    question: str | None = None
    sql: list[str] = field(default_factory=list)
    verified: bool = False
    entry_id: str | None = None
    model_id: str | None = None
    reason: str | None = None
    comment: str | None = None

    @classmethod
    def on(cls, record: JobRecord | None, *, job_id: str, user_id: str, value: str,
           team_id: str | None) -> Vote:
        """A vote on the job `record` describes (None: a job no longer recorded, voted on
        all the same)."""
        answer = (record.answer if record else None) or {}
        return cls(
            job_id=job_id,
            user_id=user_id,
            value=value,
            voted_at=utc_now_iso(),
            team_id=team_id,
            question=record.question if record else None,
            sql=[str(sql) for sql in answer.get("sql") or []],
            verified=bool(answer.get("verified")),
            entry_id=answer.get("entry_id"),
            model_id=(answer.get("usage") or {}).get("model_id"),
        )

    def item(self) -> dict[str, Any]:
        return {name: _serialize(value) for name, value in asdict(self).items()
                if value is not None}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Vote:
        values = {name: _deserialize(value) for name, value in item.items()}
        known = cls.__dataclass_fields__.keys()
        return cls(**{name: value for name, value in values.items() if name in known})


class FeedbackStore:
    def __init__(self, table_name: str, *, client: Any = None) -> None:
        self._table = table_name
        self._client = client or LazyClient("dynamodb")

    def record(self, vote: Vote) -> None:
        """Keep `vote`, replacing the same person's earlier vote on the same answer."""
        self._client.put_item(TableName=self._table, Item=vote.item())

    def explain(self, job_id: str, user_id: str, reason: str, comment: str | None) -> None:
        """Make the person's vote a 👎 that says why (created when the 👎 was not kept)."""
        values = {":down": DOWN, ":reason": reason, ":now": utc_now_iso()}
        expression = "SET #value = :down, reason = :reason, voted_at = :now"
        if comment:
            values[":comment"] = comment[:MAX_COMMENT_CHARS]
            expression += ", #comment = :comment"
        self._client.update_item(
            TableName=self._table,
            Key={"job_id": {"S": job_id}, "user_id": {"S": user_id}},
            UpdateExpression=expression,
            ExpressionAttributeNames={"#value": "value",
                                      **({"#comment": "comment"} if comment else {})},
            ExpressionAttributeValues={name: _serialize(v) for name, v in values.items()},
        )

    def votes(self) -> list[Vote]:
        """Every vote, newest first."""
        found: list[Vote] = []
        for page in self._client.get_paginator("scan").paginate(TableName=self._table):
            found += [Vote.from_item(item) for item in page.get("Items", [])]
        return sorted(found, key=lambda vote: vote.voted_at, reverse=True)


class Ballot:
    """Casting votes: the job's record is read so each vote says what it was about."""

    def __init__(self, store: FeedbackStore, jobs: JobStore) -> None:
        self.store = store
        self._jobs = jobs

    def cast(self, *, job_id: str, user_id: str, value: str, team_id: str | None) -> Vote:
        vote = Vote.on(self._jobs.get(job_id), job_id=job_id, user_id=user_id, value=value,
                       team_id=team_id)
        self.store.record(vote)
        return vote


@dataclass(frozen=True)
class Tally:
    key: str
    up: int = 0
    down: int = 0

    @property
    def share_up(self) -> float:
        return self.up / (self.up + self.down) if self.up + self.down else 0.0


def tally(votes: Iterable[Vote], key: Callable[[Vote], str | None]) -> list[Tally]:
    """Up and down votes per `key(vote)` (votes whose key is None are left out), most
    voted first."""
    counts: dict[str, list[int]] = {}
    for vote in votes:
        name = key(vote)
        if name is not None:
            counts.setdefault(name, [0, 0])[vote.value != UP] += 1
    tallies = [Tally(name, up, down) for name, (up, down) in counts.items()]
    return sorted(tallies, key=lambda t: (-(t.up + t.down), t.key))


@dataclass(frozen=True)
class FeedbackConfig:
    table: str | None = None

    @classmethod
    def from_env(cls, env: Env) -> FeedbackConfig:
        return cls(table=env.text("FEEDBACK_TABLE"))

    def store(self, *, client: Any = None) -> FeedbackStore:
        require({"FEEDBACK_TABLE": self.table})
        return FeedbackStore(str(self.table), client=client)



def open_ballot(feedback: FeedbackConfig, jobs: JobsConfig, *, client: Any = None
                ) -> Ballot | None:
    """The ballot votes are cast in, when both FEEDBACK_TABLE and JOBS_TABLE are set (else
    a click is only acknowledged); `client` is the DynamoDB client of both tables."""
    if not feedback.table or not jobs.table:
        return None
    return Ballot(feedback.store(client=client), JobStore(jobs.table, client=client))
