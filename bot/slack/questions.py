"""What a Slack payload asks, read without any API call: mentions, DMs, slash commands and
new assistant threads.

Pure functions of the payload, so each event kind and each ignored kind is tested on its own.
They read payloads whose shape bot/slack/payloads.py has checked.

Who asks matters as much as what: in a Slack Connect channel the envelope's `team_id` is
the installing workspace, while the person may belong to another organisation. Their own
team is `event.user_team` (else `event.team`) for events; a slash command's `team_id` is
already the asker's ("where the user was"), and it names no installation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.job import ANSWER, ASSISTANT, GREETING, Job, ReplyTo, utc_now_iso
from bot.questions import strip_bot_mention


@dataclass(frozen=True)
class SlackQuestion:
    """One question asked in Slack. `key` is the idempotency key and job id: the event's
    `event_id`, or the command's `trigger_id`. `team_id` is the team the request was
    delivered for (replies go there); `asker_team_id` the asker's own team or enterprise;
    `home_team_ids` the teams and enterprises the payload names as the app's installation."""

    key: str
    team_id: str
    channel: str
    user_id: str
    text: str
    thread_ts: str | None = None
    response_url: str | None = None
    asker_team_id: str = ""
    home_team_ids: frozenset[str] = frozenset()
    # An assistant thread's (bot.job.ASSISTANT), and what its job asks (bot.job.KINDS).
    surface: str | None = None
    kind: str = ANSWER
    context: dict[str, str] | None = None

    @property
    def conversation_id(self) -> str:
        # A slash command starts a new thread, whose ts only the worker will know.
        return f"{self.team_id}:{self.channel}:{self.thread_ts or self.key}"

    def to_job(self) -> Job:
        return Job(
            job_id=self.key,
            source="slack",
            conversation_id=self.conversation_id,
            user_id=self.user_id,
            text=self.text,
            reply_to=ReplyTo(
                kind="slack",
                team_id=self.team_id,
                channel=self.channel,
                thread_ts=self.thread_ts,
                response_url=self.response_url,
                surface=self.surface,
            ),
            received_at=utc_now_iso(),
            kind=self.kind,
            context=self.context,
        )


def bot_user_id(body: Mapping[str, Any]) -> str | None:
    """The bot's own user id, from the payload's `authorizations` (no auth.test)."""
    for authorization in body.get("authorizations") or []:
        if authorization.get("is_bot") and authorization.get("user_id"):
            return str(authorization["user_id"])
    return None


def question_from_event(body: Mapping[str, Any]) -> SlackQuestion | None:
    """The question in an `app_mention` or a direct message, or None for every event the
    bot must not answer: its own or another bot's messages, edits, deletions and other
    subtypes, and plain channel messages (those reach it as app_mention instead)."""
    event = body.get("event") or {}
    kind = event.get("type")
    if event.get("bot_id") or event.get("subtype") or not event.get("user"):
        return None
    own_id = bot_user_id(body)
    if event["user"] == own_id:
        return None
    if kind == "message" and event.get("channel_type") != "im":
        return None
    if kind not in ("app_mention", "message"):
        return None
    team_id = str(body.get("team_id") or event.get("team") or "")
    return SlackQuestion(
        key=str(body.get("event_id") or ""),
        team_id=team_id,
        channel=str(event.get("channel") or ""),
        user_id=str(event["user"]),
        text=strip_bot_mention(str(event.get("text") or ""), own_id),
        thread_ts=event.get("thread_ts") or event.get("ts"),
        asker_team_id=str(event.get("user_team") or event.get("team") or team_id),
        home_team_ids=_installation_ids(body),
    )


def greeting_from_event(body: Mapping[str, Any]) -> SlackQuestion | None:
    """The greeting job of an `assistant_thread_started` event (a person opened a new
    assistant thread), with the context they are viewing; None without a thread to greet."""
    thread = (body.get("event") or {}).get("assistant_thread") or {}
    if not (thread.get("channel_id") and thread.get("thread_ts") and thread.get("user_id")):
        return None
    context = {name: value for name, value in (thread.get("context") or {}).items()
               if isinstance(value, str) and value}
    team_id = str(body.get("team_id") or "")
    return SlackQuestion(
        key=str(body.get("event_id") or ""),
        team_id=team_id,
        channel=str(thread["channel_id"]),
        user_id=str(thread["user_id"]),
        text="",
        thread_ts=str(thread["thread_ts"]),
        # The event names no asker's team: the thread is in the app's own DM.
        asker_team_id=team_id,
        home_team_ids=_installation_ids(body),
        surface=ASSISTANT,
        kind=GREETING,
        context=context or None,
    )


def question_from_command(command: Mapping[str, Any]) -> SlackQuestion:
    """The question in a slash command; the reply goes to its channel, or through
    `response_url` where the bot is not a member."""
    return SlackQuestion(
        key=str(command.get("trigger_id") or ""),
        team_id=str(command.get("team_id") or ""),
        channel=str(command.get("channel_id") or ""),
        user_id=str(command.get("user_id") or ""),
        text=str(command.get("text") or "").strip(),
        response_url=command.get("response_url"),
        asker_team_id=str(command.get("team_id") or ""),
    )


def team_of(body: Mapping[str, Any]) -> str | None:
    """The team an interactivity payload (a click, a modal submission) was delivered for."""
    team = body.get("team")
    return team.get("id") if isinstance(team, dict) else team


def channel_of(body: Mapping[str, Any]) -> str:
    """The channel of the message an interactivity payload's click was on ("" if none)."""
    channel = body.get("channel") or {}
    return str((channel.get("id") if isinstance(channel, dict) else channel)
               or (body.get("container") or {}).get("channel_id") or "")


def _installation_ids(body: Mapping[str, Any]) -> frozenset[str]:
    """The teams and enterprises an event names as the app's installation: the envelope's
    `team_id` and `enterprise_id`, and those of each of its `authorizations`."""
    sources = [body, *(body.get("authorizations") or [])]
    return frozenset(
        str(source[name])
        for source in sources
        for name in ("team_id", "enterprise_id")
        if source.get(name)
    )
