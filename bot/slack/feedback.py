"""Feedback buttons on every answer, and what the ingress does when someone presses one.

Each answer ends with a `context_actions` block holding Slack's `feedback_buttons`; a
button's value is "up:<job_id>" or "down:<job_id>", so the vote names its answer.

A 👍 is recorded (bot/feedback.py) and the voter alone gets an ephemeral thank-you. A 👎
opens a small modal asking what was wrong: `views.open` must use the click's trigger_id
within Slack's three seconds, so it is the one call made before the vote is written and
the click acknowledged. Submitting the modal adds the reason to the vote, then thanks the
voter. The shape of both payloads (a parsable button value, the modal's metadata and
answers) is checked before Bolt sees them (bot/slack/payloads.py): a malformed one is a 400.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.feedback import DOWN, MAX_COMMENT_CHARS, REASONS, UP, Ballot
from bot.ingress.metrics import FEEDBACK_DOWN, FEEDBACK_UP, count
from bot.observability import correlated, service_logger
from bot.slack.config import Admission, SlackConfig
from bot.slack.questions import channel_of, team_of

logger = service_logger()

FEEDBACK_ACTION = "answer_feedback"
REASON_VIEW = "answer_feedback_reason"
REASON_BLOCK = REASON_ACTION = "reason"
COMMENT_BLOCK = COMMENT_ACTION = "comment"
THANKS = "Thanks for your feedback: it helps databot get better."
MAX_VALUE_CHARS = 2000  # Slack's limit on a feedback button's value


class BadFeedback(ValueError):
    """A feedback payload databot cannot have produced; the message says what is wrong."""


def feedback_block(job_id: str) -> dict[str, Any]:
    """The 👍/👎 buttons for the answer to job `job_id`."""

    def button(emoji: str, value: str, label: str) -> dict[str, Any]:
        return {"text": {"type": "plain_text", "text": emoji},
                "value": f"{value}:{job_id}"[:MAX_VALUE_CHARS], "accessibility_label": label}

    return {"type": "context_actions", "elements": [{
        "type": "feedback_buttons",
        "action_id": FEEDBACK_ACTION,
        "positive_button": button("👍", UP, "This answer was useful"),
        "negative_button": button("👎", DOWN, "This answer was not useful"),
    }]}


def parse_vote(value: Any) -> tuple[str, str]:
    """A button's value as (UP or DOWN, job_id)."""
    direction, _, job_id = str(value or "").partition(":")
    if direction not in (UP, DOWN) or not job_id:
        raise BadFeedback("the feedback value is not up:<job_id> or down:<job_id>")
    return direction, job_id


@dataclass(frozen=True)
class ReasonAsked:
    """What the 👎 modal carries in its private_metadata, to tie the answer back."""

    job_id: str
    channel: str
    thread_ts: str | None = None

    @classmethod
    def parse(cls, metadata: Any) -> ReasonAsked:
        try:
            data = json.loads(metadata)
            asked = cls(job_id=data["job_id"], channel=data["channel"],
                        thread_ts=data.get("thread_ts"))
        except (TypeError, ValueError, KeyError):
            raise BadFeedback("the feedback modal's private_metadata is unreadable") from None
        if not all(isinstance(v, str) for v in (asked.job_id, asked.channel)):
            raise BadFeedback("the feedback modal's private_metadata is unreadable")
        return asked


def reason_view(asked: ReasonAsked) -> dict[str, Any]:
    def plain(text: str) -> dict[str, str]:
        return {"type": "plain_text", "text": text}

    return {
        "type": "modal",
        "callback_id": REASON_VIEW,
        "private_metadata": json.dumps(asdict(asked)),
        "title": plain("What was wrong?"),
        "submit": plain("Send"),
        "close": plain("Cancel"),
        "blocks": [
            {"type": "input", "block_id": REASON_BLOCK, "label": plain("The answer had"),
             "element": {"type": "radio_buttons", "action_id": REASON_ACTION, "options": [
                 {"text": plain(text), "value": value} for value, text in REASONS.items()]}},
            {"type": "input", "block_id": COMMENT_BLOCK, "optional": True,
             "label": plain("Anything else? (optional)"),
             "element": {"type": "plain_text_input", "action_id": COMMENT_ACTION,
                         "multiline": True, "max_length": MAX_COMMENT_CHARS}},
        ],
    }


def reason_given(view: dict[str, Any]) -> tuple[str, str | None]:
    """The submitted modal's (reason, comment)."""
    values = (view.get("state") or {}).get("values") or {}
    try:
        chosen = values[REASON_BLOCK][REASON_ACTION]["selected_option"]["value"]
        comment = (values.get(COMMENT_BLOCK) or {}).get(COMMENT_ACTION, {}).get("value")
    except (TypeError, KeyError, AttributeError):
        raise BadFeedback("the feedback modal's answers are unreadable") from None
    if chosen not in REASONS or not isinstance(comment, str | None):
        raise BadFeedback("the feedback modal's answers are unreadable")
    return chosen, comment


def check_feedback_payload(payload: Mapping[str, Any], kind: str) -> None:
    """Raise BadFeedback when a feedback click or modal submission could not be read."""
    if kind == "block_actions" and payload["actions"][0].get("action_id") == FEEDBACK_ACTION:
        parse_vote(payload["actions"][0].get("value"))
        if not (payload.get("user") or {}).get("id") or not channel_of(payload):
            raise BadFeedback("a feedback click names no user or channel")
    elif kind == "view_submission" and payload["view"].get("callback_id") == REASON_VIEW:
        ReasonAsked.parse(payload["view"].get("private_metadata"))
        reason_given(payload["view"])
        if not (payload.get("user") or {}).get("id"):
            raise BadFeedback("a feedback submission names no user")


class SlackFeedback:
    """The listeners for the feedback buttons and the 👎 modal."""

    def __init__(self, slack: SlackConfig, ballot: Ballot) -> None:
        self._slack = slack
        self._ballot = ballot

    def register(self, app: App) -> None:
        app.action(FEEDBACK_ACTION)(self.on_vote)
        app.view(REASON_VIEW)(self.on_reason)

    def on_vote(self, body: dict[str, Any], ack: Ack, client: WebClient) -> None:
        direction, job_id = parse_vote(body["actions"][0]["value"])
        user, team, channel = body["user"]["id"], team_of(body), channel_of(body)
        with correlated(logger, job_id):
            if not self._admits(body, channel):
                ack()
                return
            container = body.get("container") or {}
            thread_ts = container.get("thread_ts") or container.get("message_ts")
            asked = ReasonAsked(job_id, channel, thread_ts)
            # The modal first: its trigger_id expires three seconds after the click.
            modal_open = direction == DOWN and self._open_modal(client, body, asked)
            self._ballot.cast(job_id=job_id, user_id=user, value=direction, team_id=team)
            count(FEEDBACK_UP if direction == UP else FEEDBACK_DOWN)
            logger.info("job_id=<%s>, user=<%s> | vote %s recorded", job_id, user, direction)
            ack()
            if not modal_open:
                _thank(client, user, asked)

    def on_reason(self, body: dict[str, Any], ack: Ack, client: WebClient) -> None:
        asked = ReasonAsked.parse(body["view"]["private_metadata"])
        reason, comment = reason_given(body["view"])
        user = body["user"]["id"]
        with correlated(logger, asked.job_id):
            if not self._admits(body, asked.channel):
                ack()
                return
            self._ballot.store.explain(asked.job_id, user, reason, comment)
            logger.info("job_id=<%s>, user=<%s> | 👎 reason %s recorded", asked.job_id, user,
                        reason)
            ack()  # closes the modal
            _thank(client, user, asked)

    def _open_modal(self, client: WebClient, body: dict[str, Any], asked: ReasonAsked) -> bool:
        try:
            client.views_open(trigger_id=body["trigger_id"], view=reason_view(asked))
        except (SlackApiError, KeyError) as e:
            logger.warning("job_id=<%s> | feedback modal not opened: %s", asked.job_id, e)
            return False
        return True

    def _admits(self, body: dict[str, Any], channel: str) -> bool:
        user = body["user"]
        team = team_of(body) or ""
        admission = self._slack.admits(
            team_id=team, asker_team_id=user.get("team_id") or team,
            home_team_ids={team} if team else set(), channel=channel, user_id=user["id"],
        )
        if admission is not Admission.ADMITTED:
            logger.info("user=<%s> | feedback ignored: %s", user["id"], admission.value)
        return admission is Admission.ADMITTED


def _thank(client: WebClient, user: str, asked: ReasonAsked) -> None:
    try:
        client.chat_postEphemeral(channel=asked.channel, user=user, text=THANKS,
                                  thread_ts=asked.thread_ts)
    except SlackApiError as e:
        logger.warning("job_id=<%s> | thank-you not posted: %s", asked.job_id, e)
