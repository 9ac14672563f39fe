"""The record channel: API jobs are answered into JOBS_TABLE, which GET /prompt/{job_id}
reads; nothing is sent anywhere. Jobs of a platform no channel serves yet go here too."""

from __future__ import annotations

from bot.answer import Answer
from bot.delivery import (
    MENTION,
    Delivery,
    Draft,
    Outbox,
    OutboxContext,
    Progress,
    Suggest,
    Viewing,
    no_progress,
)
from bot.job import Job, ReplyTo
from bot.job_store import JobRecord, JobStore


class RecordChannel:
    def outbox(self, job: Job, record: JobRecord, context: OutboxContext) -> Outbox:
        return RecordOutbox(context.jobs, job.job_id)

    def tell(self, to: ReplyTo, text: str, ref: str) -> None:
        """The failure reaches the client through GET /prompt/{job_id}."""

    def answer_is_out(self, job: Job, record: JobRecord) -> bool:
        """The record is the delivery: an answer recorded ended the job already."""
        return False


class RecordOutbox:
    def __init__(self, jobs: JobStore, job_id: str) -> None:
        self._jobs = jobs
        self._job_id = job_id

    def earlier_answer(self) -> Delivery | None:
        """The record is the delivery: an answer recorded earlier ended the job already."""
        return None

    def open(self) -> Progress:
        return no_progress

    def draft(self) -> Draft | None:
        """The record holds whole answers only."""
        return None

    def answer(self, answer: Answer) -> Delivery:
        """The record is the delivery: failing to write it fails the job."""
        self._jobs.mark_done(self._job_id, answer.to_dict())
        return Delivery()

    def greet(self, suggest: Suggest) -> Delivery:
        """Nobody to greet: the record says the job is done."""
        self._jobs.mark_done(self._job_id, None)
        return Delivery()

    def viewing(self) -> Viewing | None:
        """An API client views nothing beside its request."""
        return None

    def asker_email(self) -> str | None:
        """The HTTP API knows its caller by id only."""
        return None

    def say(self, text: str, *, mention: str | None = None) -> Delivery:
        """The notice is recorded as the job's answer, the person's id in place of MENTION."""
        self._jobs.mark_done(self._job_id,
                             Answer(text=text.replace(MENTION, mention or "")).to_dict())
        return Delivery()

    def fail(self, message: str) -> None:
        """The failure reaches the client through GET /prompt/{job_id}."""

    def retrying(self) -> None:
        """Nothing to show: the record stays "running"."""
