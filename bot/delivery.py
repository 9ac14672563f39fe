"""How a job's replies reach the person, whatever the chat platform. The worker and the
dead-letter notifier talk to a `Channel`, chosen by `reply_to.kind` from `Channels`, and
never to a platform's package themselves.

- A `Channel` is one platform as a process reaches it (Slack through its bot token): it
  opens an `Outbox` per job, tells a person about a failure outside any answer, and says
  whether an earlier delivery of a job already put its answer out.
- An `Outbox` is one job's replies: acknowledge, progress, the answer, a failure, a retry,
  a greeting, or a short notice (`say`: what a review job did).
  It records its own delivery in JOBS_TABLE.
- Its failures are `DeliveryError`s: `Unavailable` (passing: the job is tried again later),
  `Unreachable` (the bot cannot write there: retrying will not help), `NoChannel` (this
  process has no credentials for the platform).

`open_channels` is the registry: it imports a platform's package only there, when a
process builds its channels, so executor/ never imports bot.slack. Nothing else here
imports a platform, or anything slow: the dead-letter Lambda imports this module.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from bot.observability import service_logger

if TYPE_CHECKING:
    from bot.answer import Answer
    from bot.config import Env
    from bot.job import Job, ReplyTo
    from bot.job_store import JobRecord, JobStore
    from bot.slack.config import SlackConfig

logger = service_logger()

Progress = Callable[[str], None]
# Suggested prompts for someone viewing what the words describe ("" for nothing known).
Suggest = Callable[[str], list[str]]
# Writes of a delivered answer's record: the answer is out, so a failing write is retried
# here rather than through the queue (which would answer again).
MARK_DONE_ATTEMPTS = 3
MARK_DONE_PAUSE_S = 0.5
# Where a notice names a person (`Outbox.say`): each platform writes its own mention there.
MENTION = "{mention}"


def no_progress(stage: str) -> None:
    """Progress sink for jobs whose replies show none."""


@dataclass(frozen=True)
class Delivery:
    """The answer is out; `missing` names what of it could not be sent (a partial delivery)."""

    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutboxContext:
    """What an outbox gets from the process running the job: the job store to record the
    delivery in, how often progress may edit a message, and what to call on the first
    reply the person sees."""

    jobs: JobStore
    progress_interval_s: float
    on_first_reply: Callable[[], None]


class DeliveryError(Exception):
    """A platform refused or failed a reply. `error` is the platform's error code, if any."""

    def __init__(self, message: str, error: str | None = None) -> None:
        super().__init__(message)
        self.error = error


class Unavailable(DeliveryError):
    """The platform is throttling or failing right now: try again later."""


class Unreachable(DeliveryError):
    """The bot cannot write to this conversation (not a member, archived, deleted...)."""


class NoChannel(DeliveryError):
    """A job for a platform this process has no credentials for: no delivery would fix it."""


class Outbox(Protocol):
    def earlier_answer(self) -> Delivery | None:
        """When an earlier delivery of this job already put its answer out: settle what it
        left unsent, record the job done and say so; else None (the job is to be answered)."""
        ...

    def open(self) -> Progress:
        """Show that the job started; return where progress stages go."""
        ...

    def answer(self, answer: Answer) -> Delivery:
        """Send the answer and record the job done. Raises only while nothing of it is out."""
        ...

    def greet(self, suggest: Suggest) -> Delivery:
        """Welcome the person to a new conversation with `suggest`ed prompts (a greeting
        job) and record the job done."""
        ...

    def say(self, text: str, *, mention: str | None = None) -> Delivery:
        """Post the short notice `text` in the job's thread (a review job's outcome: "Verified
        by @reviewer: ...") and record the job done. Each `MENTION` in `text` becomes the
        platform's mention of the user id `mention`. Like `answer`, it is sent once: a
        redelivery that finds it out (`earlier_answer`) sends nothing again."""
        ...

    def fail(self, message: str) -> None:
        """Tell the person the job ended without an answer."""
        ...

    def retrying(self) -> None:
        """Tell the person the job will be tried again shortly."""
        ...


class Channel(Protocol):
    def outbox(self, job: Job, record: JobRecord, context: OutboxContext) -> Outbox:
        """The replies of `job`, claimed as `record`."""
        ...

    def tell(self, to: ReplyTo, text: str, ref: str) -> None:
        """Tell the person about a failure outside any answer, quoting `ref`: on the message
        `to` points at, else in its thread."""
        ...

    def answer_is_out(self, job: Job, record: JobRecord) -> bool:
        """Whether a delivery of `job` put its answer out (its worker may have died before
        recording it). Unavailable raises; a conversation that cannot be read says no."""
        ...


class Channels:
    """The channels of one process by `reply_to.kind`. API jobs, and kinds no channel
    serves yet, are answered into JOBS_TABLE (the record channel)."""

    def __init__(self, channels: Mapping[str, Channel]) -> None:
        # Here, not at the top: the record channel is built on this module.
        from bot.api.record import RecordChannel

        self._channels: dict[str, Channel] = {"api": RecordChannel(), **channels}

    def for_kind(self, kind: str) -> Channel:
        channel = self._channels.get(kind)
        if channel is None:
            logger.warning("no channel for %s yet: answers are kept in JOBS_TABLE", kind)
            return self._channels["api"]
        return channel

    def tell(self, to: ReplyTo | None, text: str, ref: str) -> None:
        """Tell the person about a failure outside any answer, where `to` points (nobody
        when None: no address could be read). Raises DeliveryError."""
        if to is not None:
            self.for_kind(to.kind).tell(to, text, ref)


class Unconfigured:
    """A platform this process has no credentials for: its jobs fail at once, and failures
    cannot be told there."""

    def __init__(self, credential: str, settings: str) -> None:
        self._credential = credential
        self._settings = settings

    def outbox(self, job: Job, record: JobRecord, context: OutboxContext) -> Outbox:
        logger.error("job_id=<%s> | a %s job arrived but this process has no %s (%s): "
                     "recorded failed", job.job_id, job.reply_to.kind, self._credential,
                     self._settings)
        raise NoChannel(f"the worker has no {self._credential} to reply with")

    def tell(self, to: ReplyTo, text: str, ref: str) -> None:
        logger.error("ref=<%s> | cannot tell the person: no %s configured", ref,
                     self._credential)

    def answer_is_out(self, job: Job, record: JobRecord) -> bool:
        return False


@dataclass(frozen=True)
class ChannelsConfig:
    """Each chat platform's delivery settings, read by that platform's own package (imported
    here only), so a process reads them without naming a platform."""

    slack: SlackConfig

    @classmethod
    def from_env(cls, env: Env) -> ChannelsConfig:
        from bot.slack.config import SlackConfig

        return cls(slack=SlackConfig.from_env(env))


def open_channels(config: ChannelsConfig) -> Channels:
    """The channels a process has credentials for (a Secrets Manager secret is read here,
    once); the registry of platforms. Raises ConfigError for a secret without a token."""
    token = config.slack.resolved_bot_token()
    slack: Channel = Unconfigured("Slack token", "SLACK_BOT_TOKEN or SLACK_SECRET_ARN")
    if token:
        from bot.slack.outbox import SlackChannel

        slack = SlackChannel.connect(token, config.slack.api_url)
    else:
        logger.warning("no Slack token (SLACK_BOT_TOKEN or SLACK_SECRET_ARN): Slack jobs "
                       "will be recorded failed")
    return Channels({"slack": slack})


def record_delivered(jobs: JobStore, job_id: str, answer: Answer | None) -> None:
    """Record a delivered answer (None: an earlier delivery sent it). Never raises: a retry
    or failure reply would overwrite the answer, and a redelivery would send it again."""
    for attempt in range(1, MARK_DONE_ATTEMPTS + 1):
        try:
            jobs.mark_done(job_id, answer.to_dict() if answer else None)
            return
        except Exception as e:
            if attempt == MARK_DONE_ATTEMPTS:
                logger.exception("job_id=<%s> | answer delivered but not recorded done; "
                                 "the record stays running", job_id)
                return
            logger.warning("job_id=<%s> | recording the delivered answer failed (%s), "
                           "trying again", job_id, type(e).__name__)
            time.sleep(MARK_DONE_PAUSE_S * attempt)
