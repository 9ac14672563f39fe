"""Teams delivery: a job's replies (`TeamsOutbox`) and Teams as a channel of the worker and
the dead-letter notifier (`TeamsChannel`, built by `bot.delivery.open_channels`). It speaks
to Teams only through `bot.teams.connector` and `bot.teams.cards`.

Standard library only at import (the dead-letter notifier loads it to tell a person about a
failure); the card library is loaded when an answer or greeting is rendered.

`TeamsOutbox`: a placeholder message replying to the person's message (in a channel, the
conversation id names the thread, so the reply lands in it), throttled progress on it, then
the answer's card replacing it in place; text too long for one message follows in
continuation messages. In a personal chat the answer's text streams as the model writes it
(`draft()`, bot/teams/stream.py), the card ends that stream as its final message and the
placeholder is deleted; where the stream fails, the card replaces the placeholder as
elsewhere.

Delivering once: the Bot Connector cannot read a conversation back, so JOBS_TABLE is the
only trace of an earlier delivery. The placeholder's activity id is stored there as soon as
it is posted (`reply_to.at(activity_id)`), so a redelivered job edits the same message
instead of posting another; the answer is an edit of that message, and the job is recorded
done as soon as it is out, after which no delivery claims the job again. A delivery killed
between the two puts the same answer into the same message again. A stream, once it has an
id, is stored as the placeholder in the same way (the original placeholder's id kept for
progress and removal), so a takeover puts its answer into the streamed message, not beside
it; the stream taken back (its failure) stores the placeholder again. A stored message
that cannot be edited (a stream left unfinished) is deleted and a new placeholder posted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from bot.answer import Answer
from bot.delivery import (
    MENTION,
    WELCOME,
    Delivery,
    DeliveryError,
    Draft,
    OutboxContext,
    Progress,
    Suggest,
    Unavailable,
    Unreachable,
    Viewing,
    record_delivered,
)
from bot.job import Job, ReplyTo
from bot.job_store import DONE, JobRecord
from bot.observability import service_logger
from bot.progress import ThrottledProgress
from bot.teams.activities import NOTICE
from bot.teams.config import TeamsConfig
from bot.teams.connector import AppToken, Connector, Credentials
from bot.teams.messages import (
    Activity,
    error_message,
    placeholder,
    status_message,
    text_message,
)
from bot.teams.stream import TeamsDraft

logger = service_logger()

RETRYING = "A temporary problem; trying again shortly…"
PICKED_UP_AGAIN = "Working on it… (picked up again)"


class TeamsChannel:
    def __init__(self, connector: Connector) -> None:
        self.connector = connector

    @classmethod
    def connect(cls, config: TeamsConfig) -> TeamsChannel:
        """The channel for the app in `config` (its password already resolved)."""
        config.require(password=True)
        assert config.app_id is not None and config.app_password is not None
        credentials = Credentials(config.app_id, config.app_password, config.token_url)
        return cls(Connector(AppToken(credentials), config.service_url_hosts))

    def outbox(self, job: Job, record: JobRecord, context: OutboxContext) -> TeamsOutbox:
        return TeamsOutbox(self, job, record, context)

    def tell(self, to: ReplyTo, text: str, ref: str) -> None:
        self.put(to, error_message(text, ref))

    def answer_is_out(self, job: Job, record: JobRecord) -> bool:
        """Whether the job is recorded answered: its record is the only trace there is."""
        return record.status == DONE

    def put(self, to: ReplyTo, activity: Activity) -> str:
        """Show `activity` on the message `to` points at, else post it replying to the
        person's message; the message's id."""
        service_url, conversation = _address(to)
        if to.message:
            self.connector.update(service_url, conversation, to.message, activity)
            return to.message
        return self.connector.send(service_url, conversation, activity,
                                   reply_to_id=to.activity_id)


class TeamsStatus(ThrottledProgress):
    """Progress as edits of the placeholder message."""

    def __init__(self, show: Callable[[Activity], object], *, job_id: str,
                 interval_s: float) -> None:
        super().__init__(job_id=job_id, interval_s=interval_s)
        self._put = show

    def _show(self, stage: str) -> None:
        self._put(status_message(stage))


class TeamsOutbox:
    def __init__(
        self, channel: TeamsChannel, job: Job, record: JobRecord, context: OutboxContext
    ) -> None:
        self._channel = channel
        self._job = job
        self._jobs = context.jobs
        self._progress_interval_s = context.progress_interval_s
        self._on_first_reply = context.on_first_reply
        # The person's message, moved to the placeholder once one is posted (`message`).
        self._to = record.replies_to(job)
        self._status: TeamsStatus | None = None
        self._draft: TeamsDraft | None = None

    def earlier_answer(self) -> Delivery | None:
        """None: a job recorded done is never claimed again, and an answer sent but not
        recorded went into the stored placeholder, which this delivery edits again."""
        return None

    def open(self) -> Progress:
        if self._to.message and not self._reuse_placeholder():
            self._to = replace(self._to, message=None)
        if not self._to.message:
            self._to = self._to.at(self._channel.put(self._to, placeholder()))
            self._jobs.set_placeholder(self._job.job_id, self._to)
        self._on_first_reply()
        self._status = TeamsStatus(self._show, job_id=self._job.job_id,
                                   interval_s=self._progress_interval_s)
        return self._status

    def _reuse_placeholder(self) -> bool:
        """Show the stored message picked up again; False when it cannot be edited (a
        stream a killed delivery left unfinished, which Teams keeps until it times out):
        it is deleted (best effort) and a new placeholder posted."""
        logger.info("job_id=<%s> | reusing placeholder %s", self._job.job_id,
                    self._to.message)
        try:
            self._channel.put(self._to, status_message(PICKED_UP_AGAIN))
        except Unavailable:
            raise
        except DeliveryError as e:
            logger.warning("job_id=<%s> | the stored message %s cannot be edited (%s): "
                           "posting a new placeholder", self._job.job_id, self._to.message, e)
            self._delete(self._to, "stored message")
            return False
        return True

    def answer(self, answer: Answer) -> Delivery:
        # Here, not at the top: the dead-letter notifier's Lambda, which only tells, has no
        # card library.
        from bot.teams.cards import render_answer

        self._stop_progress()
        reply = render_answer(answer, job_id=self._job.job_id)
        assert self._to.message is not None, "open() posted or found the placeholder"
        # The commit point: from here on the answer is out, and a failure is a partial
        # delivery, never a retry.
        if self._finish_stream(reply.card):
            # Before the record: a takeover answers into the stream, not the placeholder,
            # so nothing else would remove it.
            self._delete_placeholder()
        else:
            self._channel.put(self._to, reply.card)
        record_delivered(self._jobs, self._job.job_id, answer)
        missing: list[str] = []
        for part, message in enumerate(reply.rest, start=1):
            try:
                self._channel.put(self._in_thread(), message)
            except Exception as e:
                left = len(reply.rest) - part + 1
                logger.warning("job_id=<%s> | answer delivered, but %s continuation "
                               "message(s) could not be sent: %s: %s", self._job.job_id,
                               left, type(e).__name__, e)
                missing.append(f"the last {left} message{'s' if left > 1 else ''} of it")
                self._note(missing)
                break
        return Delivery(tuple(missing))

    def greet(self, suggest: Suggest) -> Delivery:
        """A welcome for a personal install, with suggested prompts as buttons; or the
        notice the front door left in the job's context (how to ask), in its place. Sent
        once: its id is stored as the placeholder's, and a redelivery that finds one sends
        none."""
        from bot.teams.cards import greeting_message

        notice = (self._job.context or {}).get(NOTICE)
        return self._send_once(lambda: text_message(notice) if notice else greeting_message(
            WELCOME, suggest("")))

    def say(self, text: str, *, mention: str | None = None) -> Delivery:
        """A review job's notice, sent once as a greeting is (its id stored as the
        placeholder's). A Teams mention must carry the person's display name, which the job
        does not: the notice names "a reviewer" instead."""
        return self._send_once(lambda: text_message(text.replace(MENTION, "a reviewer")))

    def _send_once(self, activity: Callable[[], Activity]) -> Delivery:
        """Post `activity` in the thread unless an earlier delivery did (its id is stored
        as the placeholder's), and record the job done."""
        if not self._to.message:
            self._to = self._to.at(self._channel.put(self._in_thread(), activity()))
            self._jobs.set_placeholder(self._job.job_id, self._to)
        record_delivered(self._jobs, self._job.job_id, None)
        return Delivery()

    def draft(self) -> Draft | None:
        """A stream in a personal chat, the only conversations Teams streams in; None
        elsewhere (the answer arrives whole, in place of its placeholder)."""
        if self._job.reply_to.conversation_type != "personal":
            return None
        self._draft = TeamsDraft(self._channel.connector, self._job.reply_to,
                                 job_id=self._job.job_id, on_start=self._streaming_in)
        return self._draft

    def _streaming_in(self, stream_id: str) -> None:
        """A takeover must put its answer into the streamed message: the record names it
        until the stream is taken back."""
        self._remember(self._to.at(stream_id))

    def _finish_stream(self, card: Activity) -> bool:
        """End the stream with the answer's card; False when there is none to end (or it
        failed: the streamed message is then removed and the placeholder stored again)."""
        if self._draft is None or self._draft.stream_id is None:
            return False
        if self._draft.finish(card):
            return True
        self._take_back_stream()
        return False

    def _take_back_stream(self) -> None:
        """Remove an unfinished stream (best effort) and store the placeholder again."""
        draft, self._draft = self._draft, None
        if draft is None or draft.stream_id is None:
            return
        self._remember(self._to)
        self._delete(self._to.at(draft.stream_id), "streamed draft")

    def _delete_placeholder(self) -> None:
        """The streamed message is the answer: the placeholder above it goes."""
        self._delete(self._to, "placeholder")

    def _delete(self, message: ReplyTo, what: str) -> None:
        assert message.message is not None
        try:
            service_url, conversation = _address(message)
            self._channel.connector.delete(service_url, conversation, message.message)
        except DeliveryError as e:
            logger.warning("job_id=<%s> | could not delete the %s %s: %s", self._job.job_id,
                           what, message.message, e)

    def _remember(self, to: ReplyTo) -> None:
        try:
            self._jobs.set_placeholder(self._job.job_id, to)
        except Exception:
            # A takeover then edits the other message: the answer still arrives once
            # there, beside the stream.
            logger.exception("job_id=<%s> | could not record the reply's message",
                             self._job.job_id)

    def viewing(self) -> Viewing | None:
        """None: Teams says nothing of what else the person is viewing."""
        return None

    def asker_email(self) -> str | None:
        """The asker's email from the conversation's roster (the member's `email`, else
        their `userPrincipalName`); None where it cannot be read."""
        try:
            service_url, conversation = _address(self._job.reply_to)
            member = self._channel.connector.member(service_url, conversation,
                                                    self._job.user_id)
        except DeliveryError as e:
            logger.info("job_id=<%s> | cannot read the asker's email (%s)", self._job.job_id, e)
            return None
        return str(member.get("email") or member.get("userPrincipalName") or "") or None

    def fail(self, message: str) -> None:
        self._stop_progress()
        self._take_back_stream()
        self._channel.tell(self._to, message, self._job.job_id)

    def retrying(self) -> None:
        self._stop_progress()
        self._take_back_stream()
        if self._to.message is None:
            return
        try:
            self._channel.put(self._to, status_message(RETRYING))
        except DeliveryError as e:
            logger.warning("job_id=<%s> | could not show the retry: %s", self._job.job_id, e)

    def _show(self, activity: Activity) -> None:
        self._channel.put(self._to, activity)

    def _in_thread(self) -> ReplyTo:
        """A new message in the job's thread (not an edit of the placeholder)."""
        return self._job.reply_to

    def _note(self, missing: list[str]) -> None:
        try:
            self._channel.put(self._in_thread(), text_message(
                f"⚠️ Part of this answer could not be delivered: {'; '.join(missing)}. "
                f"The answer above stands.\n\nref {self._job.job_id}"))
        except Exception as e:
            logger.warning("job_id=<%s> | the partial-delivery note could not be sent: %s",
                           self._job.job_id, e)

    def _stop_progress(self) -> None:
        if self._status is not None:
            self._status.close()


def _address(to: ReplyTo) -> tuple[str, str]:
    if not to.service_url or not to.conversation_id:
        raise Unreachable("a Teams reply address without a service URL or conversation")
    return to.service_url, to.conversation_id
