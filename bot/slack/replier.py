"""Talking to Slack from the worker: post, update, upload, answer through response_url.

Every call goes through slack_sdk's `WebClient` with its retry handlers: a 429 waits for
`Retry-After` and tries again, a 500/503 or a dropped connection is retried with back-off.
What is left after that is raised as one of the delivery errors the worker classifies
(`bot.delivery`): `SlackUnavailable` (passing: retry the job later), `ChannelUnreachable`
(permanent: the bot cannot write there; the job ends with a log line, or goes to
`response_url`), or a plain `DeliveryError` (Slack rejected the call).

Where a reply goes is a `ReplyTo`: its channel and thread, and for an edit the message
(`message`, a ts). Where the bot cannot write and a slash command left a `response_url`,
the reply goes through that instead (`write_or_respond`, the one such fallback).

A message the worker writes for a job carries a `Marker` as Slack message metadata
(invisible to people): the job's id and which part of its reply the message is. Reading
a thread back (`scan`) finds what an earlier, killed delivery of the job already posted,
so a takeover reuses it instead of posting it again.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.web import SlackResponse
from slack_sdk.web.chat_stream import ChatStream
from slack_sdk.webhook import WebhookClient

from bot.delivery import DeliveryError, Unavailable, Unreachable, Viewing
from bot.job import ReplyTo
from bot.observability import service_logger
from bot.progress import ThrottledProgress
from bot.slack.render import SlackFile, SlackMessage, status_message

logger = service_logger()

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
EVENT_PREFIX = "databot_"
# Messages per page when reading a thread or a channel back.
SCAN_PAGE = 200
# response_url accepts five messages within 30 minutes.
RESPONSE_URL_MAX_MESSAGES = 5
# A suggested prompt's button label; the whole prompt is its message.
PROMPT_TITLE_CHARS = 75
# ChatStream's own buffer: every append the draft makes is sent (the draft decides when,
# by time, so the first words are not held back for a size threshold).
STREAM_BUFFER_CHARS = 1
T = TypeVar("T")


class SlackUnavailable(Unavailable):
    """Slack is throttling or failing right now (after the client's own retries)."""


class ChannelUnreachable(Unreachable):
    """The bot cannot write to this Slack conversation (not a member, archived...)."""


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
class Marker:
    """Metadata naming the job a message belongs to. `kind` is the message's role
    (question, placeholder, answer, note; the metadata's event_type is `databot_<kind>`),
    `part` its place among the answer's messages. The answer's first message also lists
    the whole reply (`messages`, `files`), so a takeover can tell what is missing."""

    kind: str
    job_id: str
    part: int = 0
    messages: int = 0
    files: tuple[str, ...] = ()

    def metadata(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"job_id": self.job_id, "part": self.part}
        if self.messages:
            # Slack's event_payload holds strings, numbers and objects: names go joined.
            payload.update(messages=self.messages, files="/".join(self.files))
        return {"event_type": f"{EVENT_PREFIX}{self.kind}", "event_payload": payload}

    @classmethod
    def read(cls, metadata: object) -> Marker | None:
        if not isinstance(metadata, dict):
            return None
        event_type = str(metadata.get("event_type") or "")
        payload = metadata.get("event_payload")
        if not event_type.startswith(EVENT_PREFIX) or not isinstance(payload, dict):
            return None
        files = str(payload.get("files") or "")
        return cls(
            kind=event_type.removeprefix(EVENT_PREFIX),
            job_id=str(payload.get("job_id") or ""),
            part=int(payload.get("part") or 0),
            messages=int(payload.get("messages") or 0),
            files=tuple(files.split("/")) if files else (),
        )


@dataclass(frozen=True)
class Posted:
    """A message read back from Slack: its ts, its marker if it has one, its files' names."""

    ts: str
    marker: Marker | None
    file_names: tuple[str, ...] = ()


def find_marked(posted: list[Posted], job_id: str, kind: str, *, part: int = 0) -> Posted | None:
    """The first message marked as `kind` (and `part`) of this job."""
    for message in posted:
        marker = message.marker
        if marker and marker.job_id == job_id and marker.kind == kind and marker.part == part:
            return message
    return None


class SlackReplier:
    def __init__(self, client: WebClient, *, max_retries: int = 3) -> None:
        self.client = client
        self.max_retries = max_retries

    def post(self, to: ReplyTo, message: SlackMessage, *, marker: Marker | None = None) -> str:
        """Post into the thread (or the channel when thread_ts is None); return its ts."""
        response = _call(
            lambda: self.client.chat_postMessage(
                channel=_channel(to),
                thread_ts=to.thread_ts,
                text=message.text,
                blocks=message.blocks or None,
                unfurl_links=False,
                metadata=marker.metadata() if marker else None,
            )
        )
        return str(response["ts"])

    def update(self, to: ReplyTo, message: SlackMessage, *, marker: Marker | None = None) -> None:
        """Replace the message `to` points at; with `marker`, its metadata too (a job's
        message says which part of the reply it now is, so a status written over an answer
        is seen as such)."""
        ts = to.message
        assert ts is not None, "an edit needs the message's ts"
        _call(
            lambda: self.client.chat_update(
                channel=_channel(to), ts=ts, text=message.text, blocks=message.blocks,
                metadata=marker.metadata() if marker else None,
            )
        )

    def delete(self, to: ReplyTo) -> None:
        """Delete the message `to` points at (one of the bot's own)."""
        ts = to.message
        assert ts is not None, "a deletion needs the message's ts"
        _call(lambda: self.client.chat_delete(channel=_channel(to), ts=ts))

    def stop_stream(self, to: ReplyTo) -> None:
        """Stop the stream `to` points at, one an earlier process started."""
        ts = to.message
        assert ts is not None, "a stream is stopped by its message's ts"
        _call(lambda: self.client.chat_stopStream(channel=_channel(to), ts=ts))

    def stream(self, thread: ReplyTo, user_id: str) -> SlackStream:
        """A message streamed into the thread for `user_id` (chat.startStream on the first
        append). Channel threads need the recipient; Slack ignores it in DMs."""
        return SlackStream(self.client.chat_stream(
            channel=_channel(thread), thread_ts=str(thread.thread_ts),
            recipient_team_id=thread.team_id, recipient_user_id=user_id,
            buffer_size=STREAM_BUFFER_CHARS))

    def scan(self, thread: ReplyTo, *, max_pages: int | None = None) -> list[Posted]:
        """The messages of a thread (conversations.replies), or of the channel when
        thread_ts is None (conversations.history, newest first), with their markers."""
        found: list[Posted] = []
        cursor: str | None = None
        pages = 0
        while True:
            page = functools.partial(self._read_page, thread, cursor)
            response = _call(page)
            for raw in response.get("messages") or []:
                names = tuple(str(f.get("name") or "") for f in raw.get("files") or [])
                found.append(Posted(str(raw.get("ts")), Marker.read(raw.get("metadata")), names))
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            pages += 1
            if not cursor or (max_pages is not None and pages >= max_pages):
                return found

    def _read_page(self, thread: ReplyTo, cursor: str | None) -> SlackResponse:
        if thread.thread_ts is None:
            return self.client.conversations_history(
                channel=_channel(thread), include_all_metadata=True, limit=SCAN_PAGE,
                cursor=cursor)
        return self.client.conversations_replies(
            channel=_channel(thread), ts=thread.thread_ts, include_all_metadata=True,
            limit=SCAN_PAGE, cursor=cursor)

    def upload(self, to: ReplyTo, file: SlackFile) -> None:
        """Upload a file into the thread with files_upload_v2 (never the retired files.upload)."""
        content = file.content if file.content is not None else Path(str(file.path)).read_bytes()
        _call(
            lambda: self.client.files_upload_v2(
                channel=_channel(to),
                thread_ts=to.thread_ts,
                filename=file.filename,
                title=file.title,
                content=content,
            )
        )

    def notify(self, to: ReplyTo, message: SlackMessage) -> None:
        """Tell the person something outside a normal answer (a failure): on the message
        `to` points at (the job's placeholder) when it points at one, else in the thread,
        else through the slash command's response_url."""
        write: Callable[[], object] | None = None
        if to.message is not None:
            write = functools.partial(self.update, to, message)
        elif to.channel and (to.thread_ts or not to.response_url):
            write = functools.partial(self.post, to, message)
        self.write_or_respond(to, write, [message])

    # ---- assistant threads (Slack's assistant container) ------------------------------

    def set_status(self, thread: ReplyTo, status: str, loading_messages: list[str] | None = None
                   ) -> None:
        """Show what the app is doing in an assistant thread ("" clears it; a reply posted
        in the thread clears it too)."""
        _call(lambda: self.client.assistant_threads_setStatus(
            channel_id=_channel(thread), thread_ts=str(thread.thread_ts), status=status,
            loading_messages=loading_messages))

    def set_suggested_prompts(self, thread: ReplyTo, prompts: list[str], title: str) -> None:
        _call(lambda: self.client.assistant_threads_setSuggestedPrompts(
            channel_id=_channel(thread), thread_ts=str(thread.thread_ts), title=title,
            prompts=[{"title": _label(p), "message": p} for p in prompts]))

    def set_title(self, thread: ReplyTo, title: str) -> None:
        _call(lambda: self.client.assistant_threads_setTitle(
            channel_id=_channel(thread), thread_ts=str(thread.thread_ts), title=title))

    def channel_about(self, channel: str) -> Viewing:
        """A channel with its name, topic and purpose (conversations.info); only its id
        where it cannot be read."""
        try:
            info = _call(lambda: self.client.conversations_info(channel=channel))["channel"]
        except DeliveryError as e:
            logger.info("channel=<%s> | cannot read the channel (%s)", channel, e)
            return Viewing(channel)
        return Viewing(channel, name=str(info.get("name") or ""),
                       topic=str((info.get("topic") or {}).get("value") or ""),
                       purpose=str((info.get("purpose") or {}).get("value") or ""))

    def email_of(self, user: str) -> str | None:
        """A person's profile email (users.info, with the users:read.email scope); None
        where it cannot be read."""
        try:
            info = _call(lambda: self.client.users_info(user=user))["user"]
        except DeliveryError as e:
            logger.info("user=<%s> | cannot read the profile email (%s)", user, e)
            return None
        return str((info.get("profile") or {}).get("email") or "") or None

    def write_or_respond(
        self, to: ReplyTo, write: Callable[[], object] | None, messages: list[SlackMessage]
    ) -> bool:
        """Run `write` (True). Where there is nothing to write or the bot cannot write
        there, send `messages` through the slash command's response_url instead, as many as
        it accepts (False); ChannelUnreachable when there is no response_url."""
        if write is not None:
            try:
                write()
                return True
            except ChannelUnreachable as e:
                if not to.response_url:
                    raise
                logger.warning("cannot write to channel=<%s> (%s): replying through "
                               "response_url", to.channel, e.error)
        if not to.response_url:
            raise ChannelUnreachable("no channel, thread or response_url to reply to")
        for message in messages[:RESPONSE_URL_MAX_MESSAGES]:
            self.respond(to.response_url, message)
        return False

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


class SlackStream:
    """One streamed message through slack_sdk's ChatStream (chat.startStream, then
    chat.appendStream, then chat.stopStream), its failures raised as delivery errors."""

    def __init__(self, stream: ChatStream) -> None:
        self._stream = stream

    @property
    def ts(self) -> str | None:
        """The message's ts, once the stream started."""
        return self._stream.ts

    def append(self, markdown: str) -> None:
        """Add Markdown (at most 12,000 characters) to the message."""
        _call(lambda: self._stream.append(markdown_text=markdown))

    def stop(self, markdown: str = "", message: SlackMessage | None = None, *,
             marker: Marker | None = None) -> None:
        """Finish the message: the last Markdown, the blocks shown under it, its marker."""
        _call(lambda: self._stream.stop(
            markdown_text=markdown or None, blocks=message.blocks or None if message else None,
            metadata=marker.metadata() if marker else None))


class ThrottledStatus(ThrottledProgress):
    """Progress on the placeholder message, at most one chat.update per `interval_s`."""

    def __init__(
        self,
        replier: SlackReplier,
        placeholder: ReplyTo,
        *,
        job_id: str,
        interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        marker: Marker | None = None,
    ) -> None:
        super().__init__(job_id=job_id, interval_s=interval_s, clock=clock)
        self._replier = replier
        self._marker = marker
        self._placeholder = placeholder

    def _show(self, stage: str) -> None:
        self._replier.update(self._placeholder, status_message(stage), marker=self._marker)


def _label(prompt: str) -> str:
    return prompt if len(prompt) <= PROMPT_TITLE_CHARS else prompt[:PROMPT_TITLE_CHARS - 1] + "…"


def _channel(to: ReplyTo) -> str:
    if not to.channel:
        # What Slack would answer (channel_not_found), without asking it.
        raise ChannelUnreachable("no channel to reply in", error="channel_not_found")
    return to.channel


def _call(request: Callable[[], T]) -> T:
    """Run one Web API call, turning what the retry handlers could not fix into a
    DeliveryError."""
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
        raise DeliveryError(f"Slack rejected the call: {error or status}", error=error) from e
    except (SlackRequestError, URLError, OSError) as e:
        raise SlackUnavailable(f"Slack unreachable: {e}") from e
