"""Where a job's replies go. The runner talks to an Outbox; only `SlackOutbox` knows Slack,
and it speaks to Slack only through `bot.replier` and `bot.slack_render`.

- `SlackOutbox`: placeholder in the thread (reused when the job restarts), throttled
  progress on it, the final answer replacing it; for a slash command, the question is
  posted first and the answer threads under it; where the bot cannot write, the slash
  command's response_url carries the answer instead.
- `RecordOutbox`: API jobs; nothing is sent, the answer is read from JOBS_TABLE.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from aws_lambda_powertools import Logger

from bot.answer import Answer
from bot.job import Job
from bot.job_store import JobRecord, JobStore
from bot.replier import ChannelUnreachable, ReplyError, SlackReplier, Thread, ThrottledStatus
from bot.slack_render import (
    error_message,
    placeholder,
    question_message,
    render_answer,
    status_message,
)

logger = Logger(service="databot")

Progress = Callable[[str], None]
# response_url accepts five messages within 30 minutes.
RESPONSE_URL_MAX_MESSAGES = 5


def _no_progress(stage: str) -> None:
    """Progress sink for jobs whose replies show none."""


class Outbox(Protocol):
    def open(self) -> Progress:
        """Show that the job started; return where progress stages go."""
        ...

    def answer(self, answer: Answer) -> None: ...

    def fail(self, message: str) -> None:
        """Tell the person the job ended without an answer."""
        ...

    def retrying(self) -> None:
        """Tell the person the job will be tried again shortly."""
        ...


class RecordOutbox:
    """API jobs: the runner records the answer in JOBS_TABLE; nothing is sent anywhere."""

    def open(self) -> Progress:
        return _no_progress

    def answer(self, answer: Answer) -> None:
        """The answer reaches the client through GET /prompt/{job_id}."""

    def fail(self, message: str) -> None:
        """The failure reaches the client through GET /prompt/{job_id}."""

    def retrying(self) -> None:
        """Nothing to show: the record stays "running"."""


class SlackOutbox:
    def __init__(
        self,
        replier: SlackReplier,
        jobs: JobStore,
        job: Job,
        record: JobRecord,
        *,
        progress_interval_s: float,
        on_first_reply: Callable[[], None],
    ) -> None:
        self._replier = replier
        self._jobs = jobs
        self._job = job
        self._record = record
        self._progress_interval_s = progress_interval_s
        self._on_first_reply = on_first_reply
        self._thread = Thread(str(job.reply_to.channel), job.reply_to.thread_ts)
        self._placeholder_ts: str | None = None
        self._status: ThrottledStatus | None = None
        self._via_response_url = False

    def open(self) -> Progress:
        record = self._record
        try:
            if record.placeholder_ts and record.placeholder_channel:
                self._thread = Thread(record.placeholder_channel, record.reply_thread_ts
                                      or self._job.reply_to.thread_ts)
                self._placeholder_ts = record.placeholder_ts
                self._replier.update(self._thread.channel, record.placeholder_ts,
                                     status_message("Working on it… (picked up again)"))
                logger.info("job_id=<%s> | reusing placeholder %s", self._job.job_id,
                            record.placeholder_ts)
            else:
                self._post_placeholder()
        except ChannelUnreachable as e:
            if not self._job.reply_to.response_url:
                raise
            logger.warning("job_id=<%s> | cannot write to channel=<%s> (%s); "
                           "answering through response_url", self._job.job_id,
                           self._thread.channel, e.error)
            self._via_response_url = True
            return _no_progress
        self._on_first_reply()
        assert self._placeholder_ts is not None
        self._status = ThrottledStatus(self._replier, self._thread.channel, self._placeholder_ts,
                                       job_id=self._job.job_id,
                                       interval_s=self._progress_interval_s)
        return self._status

    def answer(self, answer: Answer) -> None:
        self._stop_progress()
        reply = render_answer(answer, job_id=self._job.job_id)
        if not self._via_response_url:
            try:
                self._replier.deliver(self._thread, reply, placeholder_ts=self._placeholder_ts)
                return
            except ChannelUnreachable:
                if not self._job.reply_to.response_url:
                    raise
        url = str(self._job.reply_to.response_url)
        for message in reply.messages[:RESPONSE_URL_MAX_MESSAGES]:
            self._replier.respond(url, message)
        if reply.files:
            logger.warning("job_id=<%s> | %s files not shown: response_url cannot carry files",
                           self._job.job_id, len(reply.files))

    def fail(self, message: str) -> None:
        self._stop_progress()
        placeholder_at = None
        if self._placeholder_ts and not self._via_response_url:
            placeholder_at = (self._thread.channel, self._placeholder_ts)
        self._replier.notify(self._job.reply_to, error_message(message, self._job.job_id),
                             placeholder=placeholder_at)

    def retrying(self) -> None:
        self._stop_progress()
        if self._placeholder_ts is None or self._via_response_url:
            return
        try:
            self._replier.update(self._thread.channel, self._placeholder_ts,
                                 status_message("A temporary problem; trying again shortly…"))
        except ReplyError as e:
            logger.warning("job_id=<%s> | could not show the retry: %s", self._job.job_id, e)

    def _post_placeholder(self) -> None:
        job = self._job
        if job.reply_to.thread_ts is None:
            # A slash command has no thread: post the question and thread under it.
            asked = self._replier.post(Thread(self._thread.channel, None),
                                       question_message(job.user_id, job.text))
            self._thread = Thread(self._thread.channel, asked)
        self._placeholder_ts = self._replier.post(self._thread, placeholder())
        self._jobs.set_placeholder(job.job_id, self._thread.channel, self._placeholder_ts,
                                   self._thread.thread_ts)

    def _stop_progress(self) -> None:
        if self._status is not None:
            self._status.close()


def first_reply_timer(sent_at: float, report: Callable[[float], None]) -> Callable[[], None]:
    """A callback that reports the seconds from the message's enqueue to the first reply."""
    return lambda: report(max(time.time() - sent_at, 0.0))
