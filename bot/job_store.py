"""JOBS_TABLE: one item per job, so a client of the prompt API can ask how its job went.

Item layout (key `job_id`, S): `status` (queued | running | done | failed), `source`,
`question`, `created_at` and `updated_at` (ISO 8601 UTC), `answer` (the Answer's `to_dict()`
as a JSON string, once done), `error` (once failed), `expiration` (TTL, epoch seconds),
`owner` (the prompt API's caller, whose IAM ARN alone may read the job back), `user_id`
(who asked, as the chat platform names them).
The prompt API writes the "queued" item; the worker moves it through running to done or
failed by updating `status`, `updated_at` and `answer` or `error`.

The worker's claim (`claim`) is conditional on the SQS receive count (`attempt`): a
redelivered message claims the job again only when it is newer than the last claim and the
job is not finished, so a job is answered once. The claim also keeps the SQS message that
holds the job (`message_id`): another message of the same job (Slack delivering an event
twice, each queued by the ingress) never claims it. Each claim adds one to
`claims`: a job claimed more than once may have replies from an earlier, killed delivery in
its thread, which the worker looks for before posting anything. The placeholder message's
reply address (`placeholder`, the `ReplyTo` as JSON, its `message` set) is kept so a
restarted job reuses it. Items written before that attribute existed name it in
`placeholder_channel`, `placeholder_ts` and `reply_thread_ts` (Slack's), still read.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from bot.aws_clients import LazyClient
from bot.config import Env, require
from bot.job import Job, ReplyTo, utc_now_iso

QUEUED = "queued"
RUNNING = "running"
DONE = "done"
FAILED = "failed"


@dataclass(frozen=True)
class JobRecord:
    job_id: str
    status: str
    source: str
    question: str
    created_at: str
    updated_at: str
    answer: dict[str, Any] | None = None
    error: str | None = None
    attempt: int = 0
    # How many deliveries claimed the job, this one included.
    claims: int = 0
    # The placeholder a delivery posted, in the thread the replies go under (for a slash
    # command: under the question the worker posted).
    placeholder: ReplyTo | None = None
    owner: str | None = None
    # Who asked (the job's user_id); None in records written before it was kept.
    user_id: str | None = None
    # The SQS message whose deliveries hold the job; None until a message claimed it.
    message_id: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in (DONE, FAILED)

    def held_by_another(self, message_id: str) -> bool:
        """True when a different message of the same job claimed it: `message_id` is a
        duplicate."""
        return self.message_id is not None and self.message_id != message_id

    def replies_to(self, job: Job) -> ReplyTo:
        """Where the job's replies go: its reply address, moved to the placeholder once a
        delivery posted one. An item of the older layout names only the placeholder's
        channel, ts and thread: the job's address fills in the rest."""
        if self.placeholder is None:
            return job.reply_to
        named = {name: value for name, value in asdict(self.placeholder).items() if value}
        return replace(job.reply_to, **named)

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> JobRecord:
        def text(name: str) -> str | None:
            value = item.get(name)
            return value["S"] if value else None

        answer = text("answer")
        return cls(
            job_id=text("job_id") or "",
            status=text("status") or "",
            source=text("source") or "",
            question=text("question") or "",
            created_at=text("created_at") or "",
            updated_at=text("updated_at") or "",
            answer=json.loads(answer) if answer else None,
            error=text("error"),
            attempt=int(item["attempt"]["N"]) if "attempt" in item else 0,
            claims=int(item["claims"]["N"]) if "claims" in item else 0,
            placeholder=_placeholder(text),
            owner=text("owner"),
            user_id=text("user_id"),
            message_id=text("message_id"),
        )


def _placeholder(text: Callable[[str], str | None]) -> ReplyTo | None:
    stored = text("placeholder")
    if stored:
        return ReplyTo.from_dict(json.loads(stored))
    ts = text("placeholder_ts")
    if ts is None:
        return None
    return ReplyTo(kind="slack", channel=text("placeholder_channel"),
                   thread_ts=text("reply_thread_ts"), message=ts)


@dataclass(frozen=True)
class Claim:
    """The outcome of the worker's claim: `claimed` or not, and the record as it stands."""

    claimed: bool
    record: JobRecord


class JobStore:
    def __init__(
        self,
        table_name: str,
        *,
        ttl_days: int = 30,
        client: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._table = table_name
        self._ttl_s = ttl_days * 86400
        self._client = client or LazyClient("dynamodb")
        self._clock = clock

    def put_queued(self, job: Job, *, owner: str | None = None) -> None:
        """Record `job` as queued, and `owner` when given. A job_id that is already recorded
        is a ClientError (ConditionalCheckFailedException): job ids are never reused."""
        now = utc_now_iso()
        self._client.put_item(
            TableName=self._table,
            Item={
                "job_id": {"S": job.job_id},
                "status": {"S": QUEUED},
                "source": {"S": job.source},
                "question": {"S": job.text},
                "user_id": {"S": job.user_id},
                "created_at": {"S": now},
                "updated_at": {"S": now},
                "expiration": {"N": str(int(self._clock()) + self._ttl_s)},
                **({"owner": {"S": owner}} if owner is not None else {}),
            },
            ConditionExpression="attribute_not_exists(job_id)",
        )

    def get(self, job_id: str) -> JobRecord | None:
        item = self._client.get_item(
            TableName=self._table, Key={"job_id": {"S": job_id}}, ConsistentRead=True
        ).get("Item")
        return JobRecord.from_item(item) if item else None

    def claim(self, job: Job, attempt: int, *, message_id: str | None = None) -> Claim:
        """Mark `job` running for delivery `attempt` (the SQS receive count) of the message
        `message_id`. Refused when the job is finished, an equal or later delivery already
        claimed it, or another message holds it. Creates the record when the ingress did
        not write one (Slack jobs skip "queued")."""
        held = ""
        fence: dict[str, Any] = {}
        if message_id is not None:
            held = ", message_id = :message_id"
            fence = {":message_id": {"S": message_id}}
        try:
            item = self._client.update_item(
                TableName=self._table,
                Key={"job_id": {"S": job.job_id}},
                UpdateExpression=(
                    "SET #status = :running, attempt = :attempt, updated_at = :now, "
                    "claims = if_not_exists(claims, :zero) + :one, "
                    "#source = if_not_exists(#source, :source), "
                    "question = if_not_exists(question, :question), "
                    "user_id = if_not_exists(user_id, :user_id), "
                    "created_at = if_not_exists(created_at, :now), "
                    "expiration = if_not_exists(expiration, :expiration)" + held
                ),
                ConditionExpression=(
                    "attribute_not_exists(job_id) OR "
                    "(#status IN (:queued, :running) AND "
                    "(attribute_not_exists(attempt) OR attempt < :attempt)"
                    + (" AND (attribute_not_exists(message_id) OR message_id = :message_id)"
                       if fence else "") + ")"
                ),
                ExpressionAttributeNames={"#status": "status", "#source": "source"},
                ExpressionAttributeValues={
                    ":running": {"S": RUNNING},
                    ":queued": {"S": QUEUED},
                    ":attempt": {"N": str(attempt)},
                    ":zero": {"N": "0"},
                    ":one": {"N": "1"},
                    ":now": {"S": utc_now_iso()},
                    ":source": {"S": job.source},
                    ":question": {"S": job.text},
                    ":user_id": {"S": job.user_id},
                    ":expiration": {"N": str(int(self._clock()) + self._ttl_s)},
                    **fence,
                },
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except self._client.exceptions.ConditionalCheckFailedException:
            record = self.get(job.job_id)
            assert record is not None, "a failed claim condition means the record exists"
            return Claim(claimed=False, record=record)
        return Claim(claimed=True, record=JobRecord.from_item(item))

    def set_placeholder(self, job_id: str, placeholder: ReplyTo) -> None:
        """Keep where the job's placeholder is (`placeholder.message` set)."""
        self._set(job_id, {"placeholder": json.dumps(placeholder.to_dict())})

    def mark_done(self, job_id: str, answer: dict[str, Any] | None) -> None:
        """Record the job done; `answer` is None when a takeover found the answer already
        in the thread (the killed delivery that sent it never recorded it)."""
        values = {"status": DONE}
        if answer is not None:
            values["answer"] = _bounded_answer_json(answer)
        self._set(job_id, values)

    def mark_failed(self, job_id: str, error: str, *, source: str | None = None) -> bool:
        """Record a failure; False when the job was already done (its answer stands)."""
        values = {"status": FAILED, "error": error}
        if source is not None:
            values["source"] = source
        try:
            self._set(
                job_id,
                values,
                condition="attribute_not_exists(job_id) OR #status <> :done",
                extra_values={":done": {"S": DONE}},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def _set(
        self,
        job_id: str,
        values: dict[str, str],
        *,
        condition: str | None = None,
        extra_values: dict[str, Any] | None = None,
    ) -> None:
        values = {**values, "updated_at": utc_now_iso()}
        # Also the names `condition` may use: those of the attributes being set.
        names = {f"#{name}": name for name in values}
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"job_id": {"S": job_id}},
            "UpdateExpression": "SET "
            + ", ".join(f"#{n} = :{n}" for n in values)
            + ", expiration = if_not_exists(expiration, :expiration)",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {
                **{f":{n}": {"S": v} for n, v in values.items()},
                ":expiration": {"N": str(int(self._clock()) + self._ttl_s)},
                **(extra_values or {}),
            },
        }
        if condition:
            request["ConditionExpression"] = condition
        self._client.update_item(**request)

    def delete(self, job_id: str) -> None:
        """Forget a job that never reached the queue, so its status is not "queued" forever."""
        self._client.delete_item(TableName=self._table, Key={"job_id": {"S": job_id}})


# DynamoDB items are capped at 400 KB; an answer bigger than this loses its table rows and
# the tail of its text (the full results are in the job's artifacts).
MAX_ANSWER_JSON_BYTES = 300_000


def _bounded_answer_json(answer: dict[str, Any]) -> str:
    encoded = json.dumps(answer, default=str)
    if len(encoded.encode()) <= MAX_ANSWER_JSON_BYTES:
        return encoded
    trimmed = dict(answer)
    if trimmed.get("table"):
        trimmed["table"] = {**trimmed["table"], "rows": []}
    trimmed["text"] = str(trimmed.get("text", ""))[: MAX_ANSWER_JSON_BYTES // 4]
    trimmed["code"] = []
    return json.dumps(trimmed, default=str)


@dataclass(frozen=True)
class JobsConfig:
    """Where jobs are queued and recorded: shared by the ingress, the worker and the DLQ
    notifier."""

    queue_url: str | None = None
    table: str | None = None
    ttl_days: int = 30

    @classmethod
    def from_env(cls, env: Env) -> JobsConfig:
        return cls(
            queue_url=env.text("JOBS_QUEUE_URL"),
            table=env.text("JOBS_TABLE"),
            ttl_days=env.integer("JOB_TTL_DAYS", cls.ttl_days),
        )

    def require(self, *, queue: bool = True) -> None:
        """Raise ConfigError naming JOBS_QUEUE_URL (unless not needed) and JOBS_TABLE if unset."""
        require({**({"JOBS_QUEUE_URL": self.queue_url} if queue else {}),
                 "JOBS_TABLE": self.table})
