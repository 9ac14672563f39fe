"""Where a job's replies go. The runner talks to an Outbox; only `SlackOutbox` knows Slack,
and it speaks to Slack only through `bot.slack.replier` and `bot.slack.render`.

- `SlackOutbox`: placeholder in the thread (reused when the job restarts), throttled
  progress on it, the final answer replacing it; for a slash command, the question is
  posted first and the answer threads under it; where the bot cannot write, the slash
  command's response_url carries the answer instead.
- `RecordOutbox`: API jobs; nothing is sent, the answer is read from JOBS_TABLE.

What `SlackOutbox` guarantees, whatever instant a worker is killed at (docs/worker.md,
"Delivery guarantees"): every message it writes carries a `Marker` (message metadata with
the job id), and a job claimed before (`JobRecord.claims` > 1) reads its thread back
before writing anything, so a takeover reuses the earlier question and placeholder and
never sends a second one. The answer's first message replacing the placeholder is the
commit point: once it is out the job is answered, and what fails after it (continuation
messages, files) is a partial delivery, told in one note, never a retry and never an
overwrite. A takeover that finds the answer out sends nothing of it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from aws_lambda_powertools import Logger

from bot.answer import Answer
from bot.job import Job
from bot.job_store import JobRecord, JobStore
from bot.slack.render import (
    SlackFile,
    SlackMessage,
    error_message,
    placeholder,
    question_message,
    render_answer,
    status_message,
)
from bot.slack.replier import (
    ChannelUnreachable,
    Marker,
    ReplyError,
    SlackReplier,
    SlackUnavailable,
    Thread,
    ThrottledStatus,
    find_marked,
)

logger = Logger(service="databot")

Progress = Callable[[str], None]
# response_url accepts five messages within 30 minutes.
RESPONSE_URL_MAX_MESSAGES = 5
# The partial-delivery note is the person's only sign that something is missing: a Slack
# failure the client's retries did not cover (ok:false internal_error) is tried again here.
NOTE_ATTEMPTS = 4
NOTE_PAUSE_S = 0.5


def _no_progress(stage: str) -> None:
    """Progress sink for jobs whose replies show none."""


@dataclass(frozen=True)
class Delivery:
    """The answer is out; `missing` names what of it could not be sent (a partial delivery)."""

    missing: tuple[str, ...] = ()


class Outbox(Protocol):
    def earlier_answer(self) -> Delivery | None:
        """When an earlier delivery of this job already put its answer out: settle what it
        left unsent and say so; else None (the job is to be answered)."""
        ...

    def open(self) -> Progress:
        """Show that the job started; return where progress stages go."""
        ...

    def answer(self, answer: Answer) -> Delivery:
        """Send the answer. Raises only while nothing of it is out."""
        ...

    def fail(self, message: str) -> None:
        """Tell the person the job ended without an answer."""
        ...

    def retrying(self) -> None:
        """Tell the person the job will be tried again shortly."""
        ...


class RecordOutbox:
    """API jobs: the runner records the answer in JOBS_TABLE; nothing is sent anywhere."""

    def earlier_answer(self) -> Delivery | None:
        """The record is the delivery: an answer recorded earlier ended the job already."""
        return None

    def open(self) -> Progress:
        return _no_progress

    def answer(self, answer: Answer) -> Delivery:
        """The answer reaches the client through GET /prompt/{job_id}."""
        return Delivery()

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
        thread_ts = record.reply_thread_ts or job.reply_to.thread_ts
        channel = record.placeholder_channel or str(job.reply_to.channel)
        self._thread = Thread(channel, thread_ts)
        self._placeholder_ts: str | None = record.placeholder_ts
        self._status: ThrottledStatus | None = None
        self._via_response_url = False
        self._placeholder_marker = Marker("placeholder", job.job_id)

    def earlier_answer(self) -> Delivery | None:
        if self._record.claims <= 1:
            # No delivery before this one: nothing of the job can be in Slack yet.
            return None
        try:
            return self._reconcile()
        except ChannelUnreachable as e:
            # No history scope, or no channel (open() meets that refusal and decides).
            logger.warning("job_id=<%s> | cannot read the thread back (%s): an earlier "
                           "delivery's replies may be repeated", self._job.job_id, e.error)
            return None

    def open(self) -> Progress:
        try:
            if self._placeholder_ts:
                self._replier.update(self._thread.channel, self._placeholder_ts,
                                     status_message("Working on it… (picked up again)"),
                                     marker=self._placeholder_marker)
                logger.info("job_id=<%s> | reusing placeholder %s", self._job.job_id,
                            self._placeholder_ts)
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
                                       interval_s=self._progress_interval_s,
                                       marker=self._placeholder_marker)
        return self._status

    def answer(self, answer: Answer) -> Delivery:
        self._stop_progress()
        reply = render_answer(answer, job_id=self._job.job_id)
        if not self._via_response_url:
            assert self._placeholder_ts is not None, "open() posted or found the placeholder"
            first, *rest = reply.messages
            head = Marker("answer", self._job.job_id, messages=len(reply.messages),
                          files=tuple(file.filename for file in reply.files))
            try:
                self._replier.update(self._thread.channel, self._placeholder_ts, first,
                                     marker=head)
            except ChannelUnreachable:
                if not self._job.reply_to.response_url:
                    raise
            else:
                return self._send_rest(rest, reply.files)
        url = str(self._job.reply_to.response_url)
        for message in reply.messages[:RESPONSE_URL_MAX_MESSAGES]:
            self._replier.respond(url, message)
        if reply.files:
            logger.warning("job_id=<%s> | %s files not shown: response_url cannot carry files",
                           self._job.job_id, len(reply.files))
        return Delivery()

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
                                 status_message("A temporary problem; trying again shortly…"),
                                 marker=self._placeholder_marker)
        except ReplyError as e:
            logger.warning("job_id=<%s> | could not show the retry: %s", self._job.job_id, e)

    # ---- sending ---------------------------------------------------------------------

    def _post_placeholder(self) -> None:
        job = self._job
        if self._thread.thread_ts is None:
            # A slash command has no thread: post the question and thread under it.
            asked = self._replier.post(self._thread, question_message(job.user_id, job.text),
                                       marker=Marker("question", job.job_id))
            self._thread = Thread(self._thread.channel, asked)
        self._placeholder_ts = self._replier.post(self._thread, placeholder(),
                                                  marker=self._placeholder_marker)
        self._jobs.set_placeholder(job.job_id, self._thread.channel, self._placeholder_ts,
                                   self._thread.thread_ts)

    def _send_rest(self, messages: list[SlackMessage], files: list[SlackFile]) -> Delivery:
        """Continuations and files, after the answer is out: a failure here is logged and
        noted in the thread, never raised (a retry would answer twice)."""
        missing: list[str] = []
        for part, message in enumerate(messages, start=1):
            try:
                self._replier.post(self._thread, message,
                                   marker=Marker("answer", self._job.job_id, part=part))
            except Exception as e:
                # The rest would read out of order: stop at the first gap.
                self._log_unsent("continuation message", e)
                missing.append(_messages_left(len(messages) - part + 1))
                break
        for file in files:
            try:
                self._replier.upload(self._thread, file)
            except Exception as e:
                self._log_unsent(f"file {file.filename}", e)
                missing.append(_file_name(file.title, file.filename))
        return self._noted(missing)

    def _noted(self, missing: list[str]) -> Delivery:
        if missing:
            note = error_message("Part of this answer could not be delivered: "
                                 + "; ".join(missing) + ". The answer above stands.",
                                 self._job.job_id)
            for attempt in range(1, NOTE_ATTEMPTS + 1):
                try:
                    self._replier.post(self._thread, note,
                                       marker=Marker("note", self._job.job_id))
                    break
                except SlackUnavailable as e:
                    if attempt == NOTE_ATTEMPTS:
                        self._log_unsent("partial-delivery note", e)
                    else:
                        time.sleep(NOTE_PAUSE_S * attempt)
                except Exception as e:
                    self._log_unsent("partial-delivery note", e)
                    break
        return Delivery(tuple(missing))

    def _log_unsent(self, what: str, error: Exception) -> None:
        logger.warning("job_id=<%s> | answer delivered, but its %s could not be sent: %s: %s",
                       self._job.job_id, what, type(error).__name__, error)

    # ---- taking over from a killed delivery ------------------------------------------

    def _reconcile(self) -> Delivery | None:
        """Read back what earlier deliveries posted: adopt their question and placeholder;
        when their answer is out, note what it lacks and return it."""
        job_id = self._job.job_id
        if self._thread.thread_ts is None:
            recent = self._replier.scan(self._thread, max_pages=1)
            asked = find_marked(recent, job_id, "question")
            if asked is None:
                # The placeholder goes under the question: none of it was posted.
                return None
            self._thread = Thread(self._thread.channel, asked.ts)
        posted = self._replier.scan(self._thread)
        head = find_marked(posted, job_id, "answer", part=0)
        if head is None:
            earlier = find_marked(posted, job_id, "placeholder")
            if earlier is not None and earlier.ts != self._placeholder_ts:
                logger.info("job_id=<%s> | found the placeholder %s an earlier delivery "
                            "posted", job_id, earlier.ts)
                self._placeholder_ts = earlier.ts
                self._jobs.set_placeholder(job_id, self._thread.channel, earlier.ts,
                                           self._thread.thread_ts)
            return None
        logger.info("job_id=<%s> | an earlier delivery already answered (message %s)", job_id,
                    head.ts)
        assert head.marker is not None
        if find_marked(posted, job_id, "note") is not None:
            return Delivery(("what an earlier delivery noted as missing",))
        sent_parts = {p.marker.part for p in posted
                      if p.marker and p.marker.job_id == job_id and p.marker.kind == "answer"}
        missing: list[str] = []
        unsent = [n for n in range(1, head.marker.messages) if n not in sent_parts]
        if unsent:
            missing.append(_messages_left(len(unsent)))
        shared = {name for p in posted if float(p.ts) > float(head.ts) for name in p.file_names}
        missing += [_file_name(None, name) for name in head.marker.files if name not in shared]
        return self._noted(missing)

    def _stop_progress(self) -> None:
        if self._status is not None:
            self._status.close()


def _messages_left(count: int) -> str:
    return f"the last {count} message{'s' if count > 1 else ''} of it"


def _file_name(title: str | None, filename: str) -> str:
    return f"the file {title} ({filename})" if title else f"the file {filename}"


def first_reply_timer(sent_at: float, report: Callable[[float], None]) -> Callable[[], None]:
    """A callback that reports the seconds from the message's enqueue to the first reply."""
    return lambda: report(max(time.time() - sent_at, 0.0))
