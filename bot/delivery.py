"""How a job's replies reach the person, whatever the chat platform. The worker and the
dead-letter notifier talk to a `Channel`, chosen by `reply_to.kind` from `Channels`, and
never to a platform's package themselves.

- A `Channel` is one platform as a process reaches it (Slack through its bot token): it
  opens an `Outbox` per job, tells a person about a failure outside any answer, and says
  whether an earlier delivery of a job already put its answer out.
- An `Outbox` is one job's replies: acknowledge, progress, the answer's text as the model
  writes it (a `Draft`, where the platform can show one), the answer, a failure, a retry,
  a greeting, or a short notice (`say`: what a review job did); and what the platform
  knows of the asker that the answer may depend on (`viewing`, `asker_email`).
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
    from bot.teams.config import TeamsConfig

logger = service_logger()

Progress = Callable[[str], None]
# Suggested prompts for someone viewing what the words describe ("" for nothing known).
Suggest = Callable[[str], list[str]]
# What a greeting says on every platform, before its suggested prompts.
WELCOME = ("Hi! Ask me a question about your data and I will answer with the numbers, "
           "the SQL behind them and a chart when one helps.")
# Writes of a delivered answer's record: the answer is out, so a failing write is retried
# here rather than through the queue (which would answer again).
MARK_DONE_ATTEMPTS = 3
MARK_DONE_PAUSE_S = 0.5
# Where a notice names a person (`Outbox.say`): each platform writes its own mention there.
MENTION = "{mention}"


def no_progress(stage: str) -> None:
    """Progress sink for jobs whose replies show none."""


class Draft(Protocol):
    """Where the final answer's text goes while the model writes it, before the answer is
    complete (the agent's rule for what may reach it: docs/agent.md, "Streamed answers")."""

    def write(self, text: str) -> None:
        """Show `text` after what was written so far."""
        ...

    def discard(self) -> None:
        """Take back everything written: it will not be part of the answer."""
        ...


@dataclass(frozen=True)
class Viewing:
    """What the person is looking at beside the conversation, as the platform says (Slack:
    the channel open next to an assistant thread): its id, and its name, topic and purpose
    where they could be read ("" otherwise)."""

    channel_id: str
    name: str = ""
    topic: str = ""
    purpose: str = ""

    @property
    def words(self) -> str:
        """Name, topic and purpose as words ("" where none could be read)."""
        return " ".join(part for part in (self.name, self.topic, self.purpose) if part)


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

    def draft(self) -> Draft | None:
        """Where the answer's text may show as it is written (after open()); None where it
        cannot (the answer then arrives whole)."""
        ...

    def answer(self, answer: Answer) -> Delivery:
        """Send the answer and record the job done. Raises only while nothing of it is out."""
        ...

    def greet(self, suggest: Suggest) -> Delivery:
        """Welcome the person to a new conversation with `suggest`ed prompts (a greeting
        job) and record the job done."""
        ...

    def viewing(self) -> Viewing | None:
        """What the person is viewing beside this conversation, when the job's context
        names something (None otherwise)."""
        ...

    def asker_email(self) -> str | None:
        """The asker's email as their platform's profile gives it (a per-user warehouse
        identity may map people by it), read when called; None where it cannot be read."""
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
    teams: TeamsConfig

    @classmethod
    def from_env(cls, env: Env) -> ChannelsConfig:
        from bot.slack.config import SlackConfig
        from bot.teams.config import TeamsConfig

        return cls(slack=SlackConfig.from_env(env), teams=TeamsConfig.from_env(env))


def open_channels(config: ChannelsConfig) -> Channels:
    """The channels a process has credentials for (a Secrets Manager secret is read here,
    once); the registry of platforms. Raises ConfigError for a secret without a token or
password, and for a Teams password without its app id."""
    token = config.slack.resolved_bot_token()
    slack: Channel = Unconfigured("Slack token", "SLACK_BOT_TOKEN or SLACK_SECRET_ARN")
    if token:
        from bot.slack.outbox import SlackChannel

        slack = SlackChannel.connect(token, config.slack.api_url,
                                     streaming=config.slack.streaming)
    else:
        logger.warning("no Slack token (SLACK_BOT_TOKEN or SLACK_SECRET_ARN): Slack jobs "
                       "will be recorded failed")
    return Channels({"slack": slack, "teams": _teams_channel(config.teams)})


def _teams_channel(config: TeamsConfig) -> Channel:
    """Teams, when the app's password is set or in its secret (and then its id must be)."""
    config = config.with_secrets()
    if not config.app_password:
        logger.warning("no Teams app password (TEAMS_APP_PASSWORD or TEAMS_SECRET_ARN): "
                       "Teams jobs will be recorded failed")
        return Unconfigured("Teams app password", "TEAMS_APP_PASSWORD or TEAMS_SECRET_ARN")
    from bot.teams.outbox import TeamsChannel

    return TeamsChannel.connect(config)


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
