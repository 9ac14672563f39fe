"""Slack delivery: a job's replies (`SlackOutbox`) and Slack as a channel of the worker and
the dead-letter notifier (`SlackChannel`, built by `bot.delivery.open_channels`). It
speaks to Slack only through `bot.slack.replier` and `bot.slack.render`.

`SlackOutbox`: placeholder in the thread (reused when the job restarts), throttled
progress on it, the final answer replacing it; for a slash command, the question is posted
first and the answer threads under it; where the bot cannot write, the slash command's
response_url carries the answer instead. Where the model writes the answer, its text
streams into the thread (`draft()`, bot/slack/stream.py) and the answer finishes that
streamed message, the placeholder then deleted; where streaming is off, refused or fails,
the answer replaces the placeholder as above.

What `SlackOutbox` guarantees, whatever instant a worker is killed at (docs/worker.md,
"Delivery guarantees"): every message it writes carries a `Marker` (message metadata with
the job id), and a job claimed before (`JobRecord.claims` > 1) reads its thread back
before writing anything, so a takeover reuses the earlier question and placeholder and
never sends a second one. The answer's first message replacing the placeholder is the
commit point: once it is out the job is answered, and what fails after it (continuation
messages, files) is a partial delivery, told in one note, never a retry and never an
overwrite. A takeover that finds the answer out sends nothing of it again. A delivered
answer is recorded done with retries in place, never by sending the job back. A streamed
answer's commit point is chat.stopStream, which gives the message its marker; while it
streams, JOBS_TABLE names the streamed message as the job's placeholder, so a takeover
finds a stream a killed delivery left unmarked, stops and deletes it, and answers anew.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import replace

from bot.answer import Answer
from bot.delivery import (
    Delivery,
    DeliveryError,
    Draft,
    Outbox,
    OutboxContext,
    Progress,
    Suggest,
    Viewing,
    no_progress,
    record_delivered,
)
from bot.job import ASSISTANT, Job, ReplyTo
from bot.job_store import JobRecord
from bot.observability import service_logger
from bot.slack.mrkdwn import to_markdown
from bot.slack.render import (
    SlackFile,
    SlackMessage,
    SlackReply,
    error_message,
    notice_message,
    placeholder,
    question_message,
    render_answer,
    status_message,
)
from bot.slack.replier import (
    ChannelUnreachable,
    Marker,
    Posted,
    SlackReplier,
    SlackUnavailable,
    ThrottledStatus,
    find_marked,
    web_client,
)
from bot.slack.stream import StreamedDraft

logger = service_logger()

# The partial-delivery note is the person's only sign that something is missing: a Slack
# failure the client's retries did not cover (ok:false internal_error) is tried again here.
NOTE_ATTEMPTS = 4
NOTE_PAUSE_S = 0.5


class SlackChannel:
    def __init__(self, replier: SlackReplier, *, streaming: bool = True) -> None:
        self.replier = replier
        self.streaming = streaming

    @classmethod
    def connect(cls, token: str, api_url: str, *, streaming: bool = True) -> SlackChannel:
        return cls(SlackReplier(web_client(token, api_url)), streaming=streaming)

    def outbox(self, job: Job, record: JobRecord, context: OutboxContext) -> Outbox:
        if job.reply_to.surface == ASSISTANT:
            # Here, not at the top: the assistant outbox is built on this module.
            from bot.slack.assistant import AssistantOutbox

            return AssistantOutbox(self, job, record, context)
        if is_channel_thread(job.reply_to):
            # Here, not at the top: the channel thread outbox is built on this module.
            from bot.slack.channel_thread import ChannelThreadOutbox

            return ChannelThreadOutbox(self, job, record, context)
        return SlackOutbox(self, job, record, context)

    def tell(self, to: ReplyTo, text: str, ref: str) -> None:
        self.replier.notify(to, error_message(text, ref))

    def answer_is_out(self, job: Job, record: JobRecord) -> bool:
        """Whether a marked answer of the job is in its thread."""
        thread = record.replies_to(job)
        if record.finished or record.claims == 0 or not thread.thread_ts:
            return False
        try:
            posted = self.replier.scan(thread)
        except ChannelUnreachable as e:
            logger.warning("job_id=<%s> | cannot read the thread back: %s", job.job_id, e)
            return False
        return find_marked(posted, job.job_id, "answer") is not None


class SlackOutbox:
    def __init__(
        self, channel: SlackChannel, job: Job, record: JobRecord, context: OutboxContext
    ) -> None:
        self._channel = channel
        self._replier = channel.replier
        self._jobs = context.jobs
        self._job = job
        self._progress_interval_s = context.progress_interval_s
        self._on_first_reply = context.on_first_reply
        self._claims = record.claims
        # The thread, and the placeholder in it once one is posted (`message`).
        self._to = record.replies_to(job)
        self._status: ThrottledStatus | None = None
        self._via_response_url = False
        self._placeholder_marker = Marker("placeholder", job.job_id)
        self._draft: StreamedDraft | None = None

    def earlier_answer(self) -> Delivery | None:
        if self._claims <= 1:
            # No delivery before this one: nothing of the job can be in Slack yet.
            return None
        try:
            delivery = self._reconcile()
        except ChannelUnreachable as e:
            # No history scope, or no channel (open() meets that refusal and decides).
            logger.warning("job_id=<%s> | cannot read the thread back (%s): an earlier "
                           "delivery's replies may be repeated", self._job.job_id, e.error)
            return None
        if delivery is not None:
            record_delivered(self._jobs, self._job.job_id, None)
        return delivery

    def open(self) -> Progress:
        if not self._replier.write_or_respond(self._to, self._show_placeholder, []):
            # The answer will go through response_url too.
            self._via_response_url = True
            return no_progress
        self._on_first_reply()
        self._status = ThrottledStatus(self._replier, self._to, job_id=self._job.job_id,
                                       interval_s=self._progress_interval_s,
                                       marker=self._placeholder_marker)
        return self._status

    def draft(self) -> Draft | None:
        if self._via_response_url or not self._channel.streaming or not self._to.thread_ts:
            return None
        self._draft = StreamedDraft(self._replier, self._to, user_id=self._job.user_id,
                                    job_id=self._job.job_id, on_start=self._streaming_in,
                                    on_discard=self._stream_taken_back)
        return self._draft

    def answer(self, answer: Answer) -> Delivery:
        self._stop_progress()
        delivery = self._finish_stream(answer)
        if delivery is None:
            delivery = self._send(answer)
        record_delivered(self._jobs, self._job.job_id, answer)
        return delivery

    def _send(self, answer: Answer) -> Delivery:
        reply = render_answer(answer, job_id=self._job.job_id)
        first, *rest = reply.messages
        head = self._answer_marker(reply)
        if self._put_first(first, head, reply.messages):
            delivery = self._send_rest(rest, reply.files)
        else:
            if reply.files:
                logger.warning("job_id=<%s> | %s files not shown: response_url cannot carry "
                               "files", self._job.job_id, len(reply.files))
            delivery = Delivery()
        return delivery

    def _finish_stream(self, answer: Answer) -> Delivery | None:
        """Finish the streamed message as the answer's first message; None when no stream
        is going or it cannot carry the answer (it is gone then: send the answer whole)."""
        if self._draft is None or not self._draft.started:
            return None
        prose = to_markdown(answer.text)
        reply = render_answer(answer, job_id=self._job.job_id, streamed=prose)
        first, *rest = reply.messages
        if not self._draft.finish(prose, first, self._answer_marker(reply)):
            return None
        self._after_stream()
        return self._send_rest(rest, reply.files)

    def _answer_marker(self, reply: SlackReply) -> Marker:
        """The answer's first message's marker, listing the whole reply."""
        return Marker("answer", self._job.job_id, messages=len(reply.messages),
                      files=tuple(file.filename for file in reply.files))

    def _after_stream(self) -> None:
        """The streamed answer is out: the placeholder above it goes."""
        self._delete_placeholder(self._to)

    def _delete_placeholder(self, placeholder: ReplyTo) -> None:
        self._nicety("delete the placeholder", lambda: self._replier.delete(placeholder))

    def _nicety(self, what: str, call: Callable[[], object]) -> None:
        """A status, title, prompt, retry notice or clean-up that Slack refuses is logged:
        the answer matters (where the bot cannot write at all, posting the answer meets the
        refusal)."""
        try:
            call()
        except DeliveryError as e:
            logger.warning("job_id=<%s> | could not %s: %s", self._job.job_id, what, e)

    def _streaming_in(self, ts: str) -> None:
        """A takeover must find the streamed message: the record names it until the
        stream is finished (with a marker) or taken back."""
        self._remember_placeholder(self._to.at(ts))

    def _stream_taken_back(self) -> None:
        self._remember_placeholder(self._to)

    def _remember_placeholder(self, to: ReplyTo) -> None:
        try:
            self._jobs.set_placeholder(self._job.job_id, to)
        except Exception:
            # A takeover then misses an unfinished stream, which stays above its answer.
            logger.exception("job_id=<%s> | could not record the streamed message",
                             self._job.job_id)

    def _drop_draft(self) -> None:
        if self._draft is not None:
            self._draft.discard()

    def greet(self, suggest: Suggest) -> Delivery:
        """Greetings belong to assistant threads (AssistantOutbox): nothing to show here."""
        logger.warning("job_id=<%s> | a greeting outside an assistant thread: ignored",
                       self._job.job_id)
        record_delivered(self._jobs, self._job.job_id, None)
        return Delivery()

    def viewing(self) -> Viewing | None:
        """The channel the job's context names (an assistant thread's), read with one
        conversations.info."""
        channel = (self._job.context or {}).get("channel_id")
        return self._replier.channel_about(channel) if channel else None

    def asker_email(self) -> str | None:
        """The asker's profile email, read with one users.info."""
        return self._replier.email_of(self._job.user_id)

    def say(self, text: str, *, mention: str | None = None) -> Delivery:
        """One marked message in the thread, as an answer's head, so a takeover finds it."""
        self._stop_progress()
        self._replier.post(self._to, notice_message(text, mention),
                           marker=Marker("answer", self._job.job_id, messages=1))
        record_delivered(self._jobs, self._job.job_id, None)
        return Delivery()

    def fail(self, message: str) -> None:
        self._stop_progress()
        self._drop_draft()
        on_placeholder = self._to.message is not None and not self._via_response_url
        self._channel.tell(self._to if on_placeholder else self._job.reply_to, message,
                           self._job.job_id)

    def retrying(self) -> None:
        self._stop_progress()
        self._drop_draft()
        if self._to.message is None or self._via_response_url:
            return
        self._nicety("show the retry", lambda: self._replier.update(
            self._to, status_message("A temporary problem; trying again shortly…"),
            marker=self._placeholder_marker))

    # ---- sending ---------------------------------------------------------------------

    def _put_first(self, first: SlackMessage, head: Marker, messages: list[SlackMessage]) -> bool:
        """Put the answer's first message out over the placeholder: the commit point. False
        when the whole answer went through the slash command's response_url instead."""
        replace_placeholder = None
        if not self._via_response_url:
            assert self._to.message is not None, "open() posted or found the placeholder"
            replace_placeholder = functools.partial(self._replier.update, self._to, first,
                                                    marker=head)
        return self._replier.write_or_respond(self._to, replace_placeholder, messages)

    def _show_placeholder(self) -> None:
        if self._to.message:
            self._replier.update(self._to, status_message("Working on it… (picked up again)"),
                                 marker=self._placeholder_marker)
            logger.info("job_id=<%s> | reusing placeholder %s", self._job.job_id,
                        self._to.message)
        else:
            self._post_placeholder()

    def _post_placeholder(self) -> None:
        job = self._job
        if self._to.thread_ts is None:
            # A slash command has no thread: post the question and thread under it.
            asked = self._replier.post(self._to, question_message(job.user_id, job.text),
                                       marker=Marker("question", job.job_id))
            self._to = replace(self._to, thread_ts=asked)
        self._to = self._to.at(self._replier.post(self._to, placeholder(),
                                                  marker=self._placeholder_marker))
        self._jobs.set_placeholder(job.job_id, self._to)

    def _send_rest(self, messages: list[SlackMessage], files: list[SlackFile]) -> Delivery:
        """Continuations and files, after the answer is out: a failure here is logged and
        noted in the thread, never raised (a retry would answer twice)."""
        missing: list[str] = []
        for part, message in enumerate(messages, start=1):
            try:
                self._replier.post(self._to, message,
                                   marker=Marker("answer", self._job.job_id, part=part))
            except Exception as e:
                # The rest would read out of order: stop at the first gap.
                self._log_unsent("continuation message", e)
                missing.append(_messages_left(len(messages) - part + 1))
                break
        for file in files:
            try:
                self._replier.upload(self._to, file)
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
                    self._replier.post(self._to, note,
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
        if self._to.thread_ts is None:
            recent = self._replier.scan(self._to, max_pages=1)
            asked = find_marked(recent, job_id, "question")
            if asked is None:
                # The placeholder goes under the question: none of it was posted.
                return None
            self._to = replace(self._to, thread_ts=asked.ts)
        posted = self._replier.scan(self._to)
        head = find_marked(posted, job_id, "answer", part=0)
        if head is None:
            self._drop_abandoned_stream(posted)
            earlier = find_marked(posted, job_id, "placeholder")
            if earlier is not None and earlier.ts != self._to.message:
                logger.info("job_id=<%s> | found the placeholder %s an earlier delivery "
                            "posted", job_id, earlier.ts)
                self._to = self._to.at(earlier.ts)
                self._jobs.set_placeholder(job_id, self._to)
            return None
        logger.info("job_id=<%s> | an earlier delivery already answered (message %s)", job_id,
                    head.ts)
        assert head.marker is not None
        placeholder = find_marked(posted, job_id, "placeholder")
        if placeholder is not None and placeholder.ts != head.ts:
            # A streamed answer's placeholder its delivery did not live to delete.
            self._delete_placeholder(self._to.at(placeholder.ts))
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

    def _drop_abandoned_stream(self, posted: list[Posted]) -> None:
        """The record names a message in the thread with no marker: a stream a killed
        delivery left unfinished. It is stopped and deleted (best effort), and forgotten."""
        ts = self._to.message
        if ts is None or not any(p.ts == ts and p.marker is None for p in posted):
            return
        stream, self._to = self._to, replace(self._to, message=None)
        logger.info("job_id=<%s> | an earlier delivery left the stream %s unfinished: "
                    "deleting it", self._job.job_id, ts)
        for what, call in (("stop", self._replier.stop_stream), ("delete", self._replier.delete)):
            try:
                call(stream)
            except DeliveryError as e:
                logger.info("job_id=<%s> | could not %s it: %s", self._job.job_id, what, e)
        self._remember_placeholder(self._to)

    def _stop_progress(self) -> None:
        if self._status is not None:
            self._status.close()


def is_channel_thread(to: ReplyTo) -> bool:
    """A mention's thread in a channel: not a DM (Slack's DM ids start with D), not a slash
    command (no thread yet; answered through response_url where the bot cannot write)."""
    return bool(to.channel and to.thread_ts and not to.response_url
                and not to.channel.startswith("D"))


def _messages_left(count: int) -> str:
    return f"the last {count} message{'s' if count > 1 else ''} of it"


def _file_name(title: str | None, filename: str) -> str:
    return f"the file {title} ({filename})" if title else f"the file {filename}"
