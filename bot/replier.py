"""Talking to Slack from the worker: post, update, upload, answer through response_url.

Every call goes through slack_sdk's `WebClient` with its retry handlers: a 429 waits for
`Retry-After` and tries again, a 500/503 or a dropped connection is retried with back-off.
What is left after that is raised as one of two errors the worker classifies:
`SlackUnavailable` (passing: retry the job later) and `ChannelUnreachable` (permanent:
the bot cannot write there; the job ends with a log line, or goes to `response_url`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.error import URLError

from aws_lambda_powertools import Logger
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.webhook import WebhookClient

from bot.job import ReplyTo
from bot.slack_render import SlackFile, SlackMessage, SlackReply, status_message

logger = Logger(service="databot")

# Errors that mean "the bot cannot write to this conversation" — retrying will not help.
UNREACHABLE_ERRORS = frozenset(
    {
        "not_in_channel",
        "channel_not_found",
        "is_archived",
        "restricted_action",
        "cannot_reply_to_message",
        "thread_not_found",
        "message_not_found",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "missing_scope",
    }
)
SLACK_TIMEOUT_S = 10
T = TypeVar("T")


class ReplyError(Exception):
    """Base of the replier's errors. `error` is Slack's error code when there is one."""

    def __init__(self, message: str, error: str | None = None) -> None:
        super().__init__(message)
        self.error = error


class SlackUnavailable(ReplyError):
    """Slack is throttling or failing right now (after the client's own retries)."""


class ChannelUnreachable(ReplyError):
    """The bot cannot write to this conversation (not a member, archived, deleted...)."""


def retry_handlers(max_retries: int = 3) -> list[RetryHandler]:
    return [
        RateLimitErrorRetryHandler(max_retry_count=max_retries),
        ServerErrorRetryHandler(max_retry_count=max_retries),
        ConnectionErrorRetryHandler(max_retry_count=max_retries),
    ]


def web_client(token: str, base_url: str, *, max_retries: int = 3) -> WebClient:
    """A WebClient for `SLACK_API_URL` that waits out 429s and retries passing failures."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=SLACK_TIMEOUT_S,
        retry_handlers=retry_handlers(max_retries),
    )


@dataclass(frozen=True)
class Thread:
    """Where a job's replies go: a channel and the thread's parent message."""

    channel: str
    thread_ts: str | None


class SlackReplier:
    def __init__(self, client: WebClient, *, max_retries: int = 3) -> None:
        self.client = client
        self.max_retries = max_retries

    def post(self, thread: Thread, message: SlackMessage) -> str:
        """Post into the thread (or the channel when thread_ts is None); return its ts."""
        response = _call(
            lambda: self.client.chat_postMessage(
                channel=thread.channel,
                thread_ts=thread.thread_ts,
                text=message.text,
                blocks=message.blocks or None,
                unfurl_links=False,
            )
        )
        return str(response["ts"])

    def update(self, channel: str, ts: str, message: SlackMessage) -> None:
        _call(
            lambda: self.client.chat_update(
                channel=channel, ts=ts, text=message.text, blocks=message.blocks
            )
        )

    def upload(self, thread: Thread, file: SlackFile) -> None:
        """Upload a file into the thread with files_upload_v2 (never the retired files.upload)."""
        content = file.content if file.content is not None else Path(str(file.path)).read_bytes()
        _call(
            lambda: self.client.files_upload_v2(
                channel=thread.channel,
                thread_ts=thread.thread_ts,
                filename=file.filename,
                title=file.title,
                content=content,
            )
        )

    def deliver(self, thread: Thread, reply: SlackReply, *, placeholder_ts: str | None) -> None:
        """The final answer: it replaces the placeholder, continuations follow in the
        thread, then the files (charts, long text) are uploaded."""
        first, *rest = reply.messages
        if placeholder_ts:
            self.update(thread.channel, placeholder_ts, first)
        else:
            self.post(thread, first)
        for message in rest:
            self.post(thread, message)
        for file in reply.files:
            self.upload(thread, file)

    def notify(
        self,
        reply_to: ReplyTo,
        message: SlackMessage,
        *,
        placeholder: tuple[str, str] | None = None,
    ) -> None:
        """Tell the person something outside a normal answer (a failure): on the job's
        placeholder (channel, ts) when there is one, else in the thread, else through
        the slash command's response_url."""
        try:
            if placeholder is not None:
                self.update(placeholder[0], placeholder[1], message)
                return
            if reply_to.channel and (reply_to.thread_ts or not reply_to.response_url):
                self.post(Thread(reply_to.channel, reply_to.thread_ts), message)
                return
        except ChannelUnreachable:
            if not reply_to.response_url:
                raise
        if not reply_to.response_url:
            raise ChannelUnreachable("no channel, thread or response_url to reply to")
        self.respond(reply_to.response_url, message)

    def respond(self, response_url: str, message: SlackMessage) -> None:
        """Answer a slash command through its response_url (works where the bot is not a
        member of the channel)."""
        webhook = WebhookClient(
            response_url, timeout=SLACK_TIMEOUT_S, retry_handlers=retry_handlers(self.max_retries)
        )
        try:
            response = webhook.send(
                text=message.text, blocks=message.blocks, response_type="in_channel"
            )
        except (URLError, OSError) as e:
            raise SlackUnavailable(f"response_url unreachable: {e}") from e
        if response.status_code >= 500 or response.status_code == 429:
            raise SlackUnavailable(f"response_url answered HTTP {response.status_code}")
        if response.status_code != 200:
            raise ChannelUnreachable(
                f"response_url answered HTTP {response.status_code}: {response.body}",
                error=response.body,
            )


class ThrottledStatus:
    """Progress on the placeholder message, at most one chat.update per `interval_s`.

    Updates are sent from a timer thread, never from the caller's: the engine does not
    wait on Slack to report a stage. A stage reported too soon after the last update is
    held until the interval is over, and only the latest held stage is sent. Failures are
    logged, never raised: progress is a nicety.
    """

    def __init__(
        self,
        replier: SlackReplier,
        channel: str,
        ts: str,
        *,
        job_id: str,
        interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._replier = replier
        self._channel = channel
        self._ts = ts
        self._job_id = job_id
        self._interval_s = interval_s
        self._clock = clock
        self._lock = threading.Lock()
        # Held while an update is on its way, so close() can wait it out: a late progress
        # update must never overwrite the final answer.
        self._sending = threading.Lock()
        self._next_at = float("-inf")
        self._pending: str | None = None
        self._timer: threading.Timer | None = None
        self._closed = False

    def __call__(self, stage: str) -> None:
        with self._lock:
            if self._closed:
                return
            self._pending = stage
            if self._timer is None:
                self._timer = threading.Timer(max(self._next_at - self._clock(), 0), self._flush)
                self._timer.daemon = True
                self._timer.start()

    def close(self) -> None:
        """Stop updating (the final answer is about to replace the message)."""
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
        with self._sending:
            pass

    def _flush(self) -> None:
        with self._sending:
            with self._lock:
                stage, self._pending, self._timer = self._pending, None, None
                if stage is None or self._closed:
                    return
                self._next_at = self._clock() + self._interval_s
            try:
                self._replier.update(self._channel, self._ts, status_message(stage))
            except ReplyError as e:
                logger.warning("job_id=<%s> | progress update failed: %s", self._job_id, e)


def _call(request: Callable[[], T]) -> T:
    """Run one Web API call, turning what the retry handlers could not fix into ReplyError."""
    try:
        return request()
    except SlackApiError as e:
        error = str(e.response.get("error") or "") if isinstance(e.response.data, dict) else ""
        status = e.response.status_code
        if error in UNREACHABLE_ERRORS:
            raise ChannelUnreachable(f"Slack refused the message: {error}", error=error) from e
        if status == 429 or status >= 500 or error in ("ratelimited", "internal_error",
                                                       "fatal_error", "service_unavailable"):
            raise SlackUnavailable(f"Slack is unavailable: HTTP {status} {error}", error) from e
        raise ReplyError(f"Slack rejected the call: {error or status}", error=error) from e
    except (SlackRequestError, URLError, OSError) as e:
        raise SlackUnavailable(f"Slack unreachable: {e}") from e
