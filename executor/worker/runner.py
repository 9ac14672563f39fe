"""One message from the queue to a finished answer: parse, claim, reply, record.

A job's `kind` says what it asks: an answer (the engine), a greeting (suggested prompts),
or a reviewer's verify or retire (the review desk, whose outcome is a notice).

The runner decides what happens to the message (`Outcome`) and the service applies it:
delete it, let it come back after a back-off, or leave it alone. It replies through the
outbox of the channel `reply_to.kind` names (`bot.delivery`), which records the answer.
"""

from __future__ import annotations

import enum
import json
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.answer import Answer
from bot.asker import Asker
from bot.delivery import Channels, Delivery, DeliveryError, Outbox, OutboxContext, Suggest
from bot.job import GREETING, REVIEW_KINDS, VERIFY, Job, PoisonMessage
from bot.job_store import JobRecord, JobStore
from bot.observability import correlated, service_logger
from executor.artifacts import ArtifactStore
from executor.artifacts.keys import scratch_dir
from executor.conversations import ConversationStore
from executor.engine import Engine, Request, Turn
from executor.errors import (
    ModelThrottled,
    ModelUnavailable,
    ModelUnreachable,
    UserFacingError,
)
from executor.verified.prompts import library_prompts
from executor.verified.review import ReviewDesk
from executor.worker.config import WorkerConfig
from executor.worker.failures import Verdict, backoff_s, classify, user_message
from executor.worker.metrics import WorkerMetrics
from executor.worker.queue import QueueMessage

logger = service_logger()

UNREADABLE = "I could not read this request, so it was dropped. Please ask again."


class Action(enum.Enum):
    DELETE = "delete"
    RETRY = "retry"
    # Another delivery of the same job holds it: touch nothing.
    LEAVE = "leave"


@dataclass(frozen=True)
class Outcome:
    action: Action
    delay_s: int = 0


DELETE = Outcome(Action.DELETE)
LEAVE = Outcome(Action.LEAVE)


class JobRunner:
    def __init__(
        self,
        engine: Engine,
        jobs: JobStore,
        *,
        config: WorkerConfig,
        metrics: WorkerMetrics,
        channels: Channels,
        conversations: ConversationStore | None = None,
        artifacts: ArtifactStore | None = None,
        suggest: Suggest = library_prompts,
        reviews: ReviewDesk | None = None,
    ) -> None:
        self.engine = engine
        # Verify and retire jobs (none: they are refused).
        self.reviews = reviews
        self.suggest = suggest
        self.jobs = jobs
        self.config = config
        self.metrics = metrics
        self.channels = channels
        self.conversations = conversations
        self.artifacts = artifacts
        # At most `concurrency` engines run at once; the rest of a job is bookkeeping.
        self.engine_slots = threading.BoundedSemaphore(config.concurrency)

    def run(self, message: QueueMessage) -> Outcome:
        try:
            job = Job.from_json(message.body)
        except PoisonMessage as e:
            return self._poison(message, e)
        with correlated(logger, job.job_id):
            return self._run_job(job, message)

    def _run_job(self, job: Job, message: QueueMessage) -> Outcome:
        claim = self.jobs.claim(job, attempt=message.receive_count,
                                message_id=message.message_id)
        if not claim.claimed:
            # Another message of the job (a chat event queued twice) holds it.
            duplicate = claim.record.held_by_another(message.message_id)
            if claim.record.finished:
                logger.info("job_id=<%s> | already %s, dropping %s", job.job_id,
                            claim.record.status,
                            "this duplicate message" if duplicate else "the redelivery")
                if duplicate:
                    self.metrics.duplicate()
                return DELETE
            if duplicate:
                # Left, not dropped: if its holder is lost (dead-lettered, say), this one
                # goes the same way to the notifier rather than vanish.
                logger.info("job_id=<%s> | message %s holds the job: this duplicate waits "
                            "until it finishes", job.job_id, claim.record.message_id)
                return LEAVE
            logger.warning("job_id=<%s> | delivery %s is held by delivery %s, leaving it",
                           job.job_id, message.receive_count, claim.record.attempt)
            return LEAVE

        logger.info("job_id=<%s>, trace=<%s> | started (delivery %s, source %s)", job.job_id,
                    message.trace_header, message.receive_count, job.source)
        try:
            return self._work(job, claim.record, message)
        finally:
            # Charts and other files the engine wrote; the replies have read them by now,
            # and a retry draws them again.
            shutil.rmtree(scratch_dir(job.job_id), ignore_errors=True)

    def _work(self, job: Job, record: JobRecord, message: QueueMessage) -> Outcome:
        self.metrics.job_started()
        started = time.monotonic()
        outbox: Outbox | None = None
        answer: Answer | None = None
        try:
            context = OutboxContext(
                self.jobs, self.config.progress_interval_s,
                on_first_reply=first_reply_timer(message.sent_at, self.metrics.first_reply),
            )
            outbox = self.channels.for_kind(job.reply_to.kind).outbox(job, record, context)
            # A killed delivery may have put the answer out: then it is not computed or
            # sent again.
            delivery = outbox.earlier_answer()
            if delivery is None and job.kind == GREETING:
                # A new assistant thread: prompts from the verified library, no model.
                delivery = outbox.greet(self.suggest)
            elif delivery is None and job.kind in REVIEW_KINDS:
                # A reviewer's verify or retire: its outcome is a notice in the thread.
                with self.engine_slots:
                    notice, reviewer = self._review(job)
                delivery = outbox.say(notice, mention=reviewer)
            elif delivery is None:
                progress = outbox.open()
                history = self._history(job)
                viewing = outbox.viewing()
                with self.engine_slots:
                    answer = self.engine.answer(
                        Request(job_id=job.job_id, question=job.text, history=history,
                                progress=progress, viewing=viewing, draft=outbox.draft(),
                                asker=Asker.of_job(job), email=outbox.asker_email)
                    )
                self._store_answer_file(job, answer)
                delivery = outbox.answer(answer)
        except Exception as e:
            return self._failed(job, message, e, outbox, time.monotonic() - started)
        return self._finish(job, answer, delivery, started, message)

    def _finish(
        self,
        job: Job,
        answer: Answer | None,
        delivery: Delivery,
        started: float,
        message: QueueMessage,
    ) -> Outcome:
        """The answer is out and recorded (`answer` None: an earlier delivery sent it):
        count a partial delivery, remember the turn. Nothing here can send the job back."""
        if delivery.missing:
            logger.warning("job_id=<%s> | partial delivery: %s", job.job_id,
                           "; ".join(delivery.missing))
            self.metrics.partial_delivery()
        if answer is not None:
            self._remember(job, answer)
        duration = time.monotonic() - started
        self.metrics.job_succeeded(duration)
        self.metrics.answered(answer, max(time.time() - message.sent_at, 0.0))
        logger.info("job_id=<%s> | done in %.2f s", job.job_id, duration)
        return DELETE

    def _failed(
        self,
        job: Job,
        message: QueueMessage,
        error: Exception,
        outbox: Outbox | None,
        duration_s: float,
    ) -> Outcome:
        verdict = classify(error)
        if isinstance(error, ModelThrottled | ModelUnavailable | ModelUnreachable):
            self.metrics.model_error()
        attempts_left = message.receive_count < self.config.unexpected_attempts
        if verdict is Verdict.UNEXPECTED and attempts_left:
            verdict = Verdict.TRANSIENT
            logger.exception("job_id=<%s> | unexpected error, will retry", job.job_id)
        if verdict is Verdict.TRANSIENT:
            delay = backoff_s(message.receive_count, base_s=self.config.backoff_base_s,
                              max_s=self.config.backoff_max_s)
            logger.warning("job_id=<%s> | transient failure (%s: %s), retry in %s s",
                           job.job_id, type(error).__name__, error, delay)
            self.metrics.job_retried()
            if outbox is not None:
                outbox.retrying()
            return Outcome(Action.RETRY, delay)

        if verdict is Verdict.UNEXPECTED:
            logger.exception("job_id=<%s> | failed: %s", job.job_id, type(error).__name__)
        elif verdict is Verdict.UNREACHABLE:
            logger.error("job_id=<%s> | cannot reply on %s: %s", job.job_id, job.reply_to.kind,
                         error)
        else:
            logger.info("job_id=<%s> | answered with a permanent error: %s", job.job_id, error)
        text = user_message(error, verdict, job.job_id)
        if outbox is not None and verdict is not Verdict.UNREACHABLE:
            try:
                outbox.fail(text)
            except DeliveryError as e:
                logger.error("job_id=<%s> | could not tell the person: %s", job.job_id, e)
        self.jobs.mark_failed(job.job_id, text)
        self.metrics.job_failed(verdict.value, duration_s)
        return DELETE

    def _poison(self, message: QueueMessage, error: PoisonMessage) -> Outcome:
        logger.error("message_id=<%s> | poison message dropped: %s", message.message_id, error)
        self.metrics.job_failed("poison", 0.0)
        try:
            self.channels.tell(error.reply_to, UNREADABLE, message.message_id)
        except DeliveryError as e:
            logger.error("message_id=<%s> | could not tell the person: %s",
                         message.message_id, e)
        return DELETE

    def _review(self, job: Job) -> tuple[str, str]:
        """Carry out a verify or retire job: the notice for the thread and the reviewer it
        names. Raises Refused (told in the thread)."""
        review = job.review
        if self.reviews is None or review is None:
            raise UserFacingError("This worker does not take reviews of verified queries.")
        if job.kind == VERIFY:
            notice = self.reviews.verify(review, job_id=job.job_id, asker=Asker.of_job(job))
        else:
            notice = self.reviews.retire(review, job_id=job.job_id)
        return notice, review.reviewer

    def _history(self, job: Job) -> list[Turn]:
        if self.conversations is None:
            return []
        return self.conversations.history(job.conversation_id)

    def _remember(self, job: Job, answer: Answer) -> None:
        if self.conversations is None:
            return
        turn = Turn(question=job.text, sql=list(answer.sql), answer=answer.text)
        try:
            self.conversations.append(job.conversation_id, turn, job_id=job.job_id)
        except Exception:
            # The answer is delivered; a lost turn only weakens a later follow-up.
            logger.exception("job_id=<%s> | could not store the turn", job.job_id)

    def _store_answer_file(self, job: Job, answer: Answer) -> None:
        """API jobs also get the whole Answer, as GET /prompt/{job_id} serves it, in
        results/<job_id>/response.json (answer.json is the reproducible bundle)."""
        if job.source != "api" or self.artifacts is None:
            return
        data = json.dumps(answer.to_dict(), default=str).encode()
        answer.artifacts["response.json"] = self.artifacts.put_bytes(
            job.job_id, "response.json", data, "application/json"
        )


def first_reply_timer(sent_at: float, report: Callable[[float], None]) -> Callable[[], None]:
    """A callback that reports the seconds from the message's enqueue to the first reply."""
    return lambda: report(max(time.time() - sent_at, 0.0))
