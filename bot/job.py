"""The Job: the versioned SQS message body that carries one question to the worker."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from bot.review import BadReview, Review

JOB_VERSION = 1
# What a job asks of the worker (`kind`; absent means "answer"): an answer to `text`, a
# greeting for a new assistant thread (suggested prompts, no model), or a reviewer's
# request to verify an answer or retire a verified entry (`review` says which).
ANSWER = "answer"
GREETING = "greeting"
VERIFY = "verify"
RETIRE = "retire"
KINDS = (ANSWER, GREETING, VERIFY, RETIRE)
REVIEW_KINDS = (VERIFY, RETIRE)
Source = Literal["slack", "api", "teams"]
SOURCES: tuple[str, ...] = ("slack", "api", "teams")


class PoisonMessage(ValueError):
    """A message body that can never become a Job: not JSON, unknown version, missing fields.

    `reply_to` is whatever reply address could still be read from it, so the person can
    be told.
    """

    def __init__(self, reason: str, reply_to: ReplyTo | None = None) -> None:
        super().__init__(reason)
        self.reply_to = reply_to


# What each kind of reply address carries on the wire (DESIGN.md, "Job — the SQS message
# body"): Slack's fields, always all written; API jobs, answered into JOBS_TABLE, none;
# Teams' as its front door writes them.
ADDRESS_FIELDS: dict[str, tuple[str, ...]] = {
    "slack": ("team_id", "channel", "thread_ts", "response_url"),
    "api": (),
    "teams": ("service_url", "conversation_id", "activity_id", "tenant_id", "conversation_type"),
}
# `ReplyTo.surface` of a thread in Slack's assistant container.
ASSISTANT = "assistant"
# Fields of any kind, written only when set: older bodies and records lack them.
OPTIONAL_FIELDS = ("message", "surface")


@dataclass(frozen=True)
class ReplyTo:
    """Where a job's replies go, on any platform: `kind` names the platform, and only the
    fields of that kind are set. `message` points at one message in that conversation and
    thread (the placeholder the replies edit): the Job never carries one, JOBS_TABLE does
    once the worker has posted it."""

    kind: str
    # Slack: the workspace, channel, thread (None for a slash command), slash command's URL.
    team_id: str | None = None
    channel: str | None = None
    thread_ts: str | None = None
    response_url: str | None = None
    # Microsoft Teams: the Bot Connector endpoint, the conversation and activity replied to.
    service_url: str | None = None
    conversation_id: str | None = None
    activity_id: str | None = None
    tenant_id: str | None = None
    conversation_type: str | None = None
    message: str | None = None
    # Slack: "assistant" for a thread of Slack's assistant container (status instead of a
    # placeholder, greetings, titles); None for channels and DMs. Written only when set.
    surface: str | None = None

    def at(self, message: str) -> ReplyTo:
        """This message in this conversation and thread."""
        return replace(self, message=message)

    def to_dict(self) -> dict[str, str | None]:
        data: dict[str, str | None] = {"kind": self.kind}
        data.update((name, getattr(self, name)) for name in ADDRESS_FIELDS[self.kind])
        data.update((name, getattr(self, name)) for name in OPTIONAL_FIELDS
                    if getattr(self, name) is not None)
        return data

    @classmethod
    def from_dict(cls, data: Any) -> ReplyTo:
        if not isinstance(data, dict) or data.get("kind") not in ADDRESS_FIELDS:
            raise PoisonMessage(f"reply_to must be an object with kind in {tuple(ADDRESS_FIELDS)}")
        fields = (*ADDRESS_FIELDS[data["kind"]], *OPTIONAL_FIELDS)
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
    kind: str = ANSWER
    # What the person is looking at beside an assistant thread (Slack: channel_id, team_id,
    # enterprise_id), when the platform says; absent means none.
    context: dict[str, str] | None = None
    # A verify job's proposal, or the entry a retire job retires (REVIEW_KINDS only).
    review: Review | None = None

    def to_json(self) -> str:
        data = asdict(self)
        data["reply_to"] = self.reply_to.to_dict()
        if self.review is None:
            del data["review"]
        else:
            data["review"] = self.review.to_dict()
        # Written only when they say something, so answer jobs keep the original shape.
        if self.kind == ANSWER:
            del data["kind"]
        if self.context is None:
            del data["context"]
        return json.dumps(data, separators=(",", ":"))

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
        kind = data.get("kind", ANSWER)
        if kind not in KINDS:
            raise PoisonMessage(f"unknown job kind {kind!r}", reply_to)
        # Only an answer needs its text: the other kinds answer no question of their own.
        required: tuple[str, ...] = ("job_id", "source", "conversation_id", "user_id",
                                     "received_at")
        if kind == ANSWER:
            required += ("text",)
        missing = [name for name in required
                   if not isinstance(data.get(name), str) or not data[name]]
        if kind != ANSWER and not isinstance(data.get("text"), str):
            missing.append("text")
        if missing:
            raise PoisonMessage(f"missing or empty fields: {', '.join(missing)}", reply_to)
        if data["source"] not in SOURCES:
            raise PoisonMessage(f"unknown source {data['source']!r}", reply_to)
        if reply_to is None:
            raise PoisonMessage("reply_to is missing or malformed")
        context = data.get("context")
        if context is not None and not (
            isinstance(context, dict)
            and all(isinstance(v, str) for v in context.values())
        ):
            raise PoisonMessage("context must be an object of strings", reply_to)
        review = _review(kind, data.get("review"), reply_to)
        return cls(
            job_id=data["job_id"],
            source=data["source"],
            conversation_id=data["conversation_id"],
            user_id=data["user_id"],
            text=data["text"],
            reply_to=reply_to,
            received_at=data["received_at"],
            kind=kind,
            context=context,
            review=review,
        )


def _review(kind: str, data: Any, reply_to: ReplyTo) -> Review | None:
    """A review job's request, which its kind requires: a proposal to verify, an entry id
    to retire. Other kinds carry none."""
    if kind not in REVIEW_KINDS:
        return None
    try:
        review = Review.from_dict(data)
    except BadReview as e:
        raise PoisonMessage(f"{kind} job: {e}", reply_to) from e
    if kind == VERIFY and review.proposal is None:
        raise PoisonMessage("verify job: review.proposal is missing", reply_to)
    if kind == RETIRE and review.entry_id is None:
        raise PoisonMessage("retire job: review.entry_id is missing", reply_to)
    return review


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
