"""The Job: the versioned SQS message body that carries one question to the worker."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

JOB_VERSION = 1
Source = Literal["slack", "api", "teams"]
SOURCES: tuple[str, ...] = ("slack", "api", "teams")
REPLY_KINDS: tuple[str, ...] = ("slack", "api", "teams")


class PoisonMessage(ValueError):
    """A message body that can never become a Job: not JSON, unknown version, missing fields.

    `reply_to` is whatever reply address could still be read from it, so the person can
    be told.
    """

    def __init__(self, reason: str, reply_to: ReplyTo | None = None) -> None:
        super().__init__(reason)
        self.reply_to = reply_to


@dataclass(frozen=True)
class ReplyTo:
    kind: str
    team_id: str | None = None
    channel: str | None = None
    thread_ts: str | None = None
    response_url: str | None = None

    @classmethod
    def from_dict(cls, data: Any) -> ReplyTo:
        if not isinstance(data, dict) or data.get("kind") not in REPLY_KINDS:
            raise PoisonMessage(f"reply_to must be an object with kind in {REPLY_KINDS}")
        fields = ("team_id", "channel", "thread_ts", "response_url")
        for name in fields:
            if data.get(name) is not None and not isinstance(data[name], str):
                raise PoisonMessage(f"reply_to.{name} must be a string")
        return cls(kind=data["kind"], **{name: data.get(name) for name in fields})


@dataclass(frozen=True)
class Job:
    job_id: str
    source: str
    conversation_id: str
    user_id: str
    text: str
    reply_to: ReplyTo
    received_at: str
    version: int = JOB_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, body: str) -> Job:
        try:
            data = json.loads(body)
        except (TypeError, ValueError) as e:
            raise PoisonMessage(f"message body is not JSON: {e}") from e
        if not isinstance(data, dict):
            raise PoisonMessage("message body is not a JSON object")
        reply_to = _readable_reply_to(data.get("reply_to"))
        if data.get("version") != JOB_VERSION:
            raise PoisonMessage(f"unknown job version {data.get('version')!r}", reply_to)
        missing = [
            name
            for name in ("job_id", "source", "conversation_id", "user_id", "text", "received_at")
            if not isinstance(data.get(name), str) or not data[name]
        ]
        if missing:
            raise PoisonMessage(f"missing or empty fields: {', '.join(missing)}", reply_to)
        if data["source"] not in SOURCES:
            raise PoisonMessage(f"unknown source {data['source']!r}", reply_to)
        if reply_to is None:
            raise PoisonMessage("reply_to is missing or malformed")
        return cls(
            job_id=data["job_id"],
            source=data["source"],
            conversation_id=data["conversation_id"],
            user_id=data["user_id"],
            text=data["text"],
            reply_to=reply_to,
            received_at=data["received_at"],
        )


def _readable_reply_to(data: Any) -> ReplyTo | None:
    try:
        return ReplyTo.from_dict(data)
    except PoisonMessage:
        return None


def utc_now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def job_id_of(body: str) -> str | None:
    """The job id a message body names, when it can be read at all (a poison message may
    still carry one): the correlation id of the lines logged about the message."""
    try:
        data = json.loads(body)
    except (TypeError, ValueError):
        return None
    job_id = data.get("job_id") if isinstance(data, dict) else None
    return job_id if isinstance(job_id, str) and job_id else None
