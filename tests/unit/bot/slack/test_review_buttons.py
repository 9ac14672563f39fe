"""The reviewer's button on answers: Verify on agent answers, Retire on verified ones, in
blocks Slack accepts (the stand-in checks as Slack does)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.answer import Answer
from bot.slack.render import render_answer
from bot.slack.review_buttons import (
    RETIRE_ACTION,
    VERIFY_ACTION,
    BadReviewPayload,
    retire_value,
    review_block,
    verify_value,
)
from tests.support.slack_api import SlackApiStandIn

SQL = "SELECT count(*) FROM users"


def agent_answer(sql: list[str] | None = None) -> Answer:
    return Answer(text="1,234 users.", sql=[SQL] if sql is None else sql)


def verified_answer(entry_id: str | None = "signups_by_month") -> Answer:
    return Answer(text="1,234 users.", sql=[SQL], verified=True, entry_id=entry_id)


def test_an_agent_answer_carries_verify_naming_its_job_above_the_feedback_buttons() -> None:
    [message] = render_answer(agent_answer(), job_id="Ev123").messages

    *_, review, feedback = message.blocks
    assert feedback["type"] == "context_actions"
    assert review["type"] == "actions"
    [button] = review["elements"]
    assert (button["type"], button["action_id"], button["value"]) == (
        "button", VERIFY_ACTION, "Ev123")
    assert button["text"]["text"] == "Verify"
    assert "confirm" not in button
    assert verify_value(button["value"]) == "Ev123"


def test_a_verified_answer_carries_retire_behind_a_confirmation_and_no_verify() -> None:
    [message] = render_answer(verified_answer(), job_id="Ev123").messages

    *_, review, feedback = message.blocks
    assert feedback["type"] == "context_actions"
    [button] = review["elements"]
    assert button["action_id"] == RETIRE_ACTION and button["text"]["text"] == "Retire"
    assert json.loads(button["value"]) == {"entry_id": "signups_by_month", "job_id": "Ev123"}
    assert retire_value(button["value"]) == ("signups_by_month", "Ev123")
    confirm = button["confirm"]
    assert confirm["title"]["text"] == "Retire this entry?"
    assert "signups_by_month" in confirm["text"]["text"]
    assert (confirm["confirm"]["text"], confirm["deny"]["text"]) == ("Retire", "Keep it")
    assert VERIFY_ACTION not in json.dumps(message.blocks)


@pytest.mark.parametrize("answer", [agent_answer(sql=[]), verified_answer(entry_id=None)])
def test_an_answer_with_nothing_to_verify_or_retire_has_no_review_button(answer: Answer) -> None:
    [message] = render_answer(answer, job_id="Ev123").messages

    assert review_block(answer, "Ev123") is None
    assert [b["type"] for b in message.blocks].count("actions") == 0
    assert message.blocks[-1]["type"] == "context_actions"


@pytest.mark.parametrize("answer", [agent_answer(), verified_answer()])
def test_slack_accepts_the_answer_with_its_review_button(
    slack_api: SlackApiStandIn, answer: Answer
) -> None:
    client = WebClient(token=slack_api.token, base_url=slack_api.url)
    for message in render_answer(answer, job_id="Ev123").messages:
        assert client.chat_postMessage(channel="C1", text=message.text, blocks=message.blocks)[
            "ok"]


def _broken(answer: Answer, change: Callable[[dict[str, Any]], None]) -> list[dict[str, Any]]:
    block = review_block(answer, "Ev123")
    assert block is not None
    change(block["elements"][0])
    return [block]


@pytest.mark.parametrize(
    "change",
    [
        lambda b: b.update(type="feedback_buttons"),
        lambda b: b.update(action_id=""),
        lambda b: b.update(text={"type": "mrkdwn", "text": "Retire"}),
        lambda b: b.update(value="x" * 2001),
        lambda b: b.update(style="loud"),
        lambda b: b["confirm"].pop("title"),
        lambda b: b["confirm"]["text"].update(text="x" * 301),
        lambda b: b["confirm"]["confirm"].update(text="x" * 31),
    ],
)
def test_slack_rejects_malformed_review_buttons(
    slack_api: SlackApiStandIn, change: Callable[[dict[str, Any]], None]
) -> None:
    client = WebClient(token=slack_api.token, base_url=slack_api.url)
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        client.chat_postMessage(channel="C1", text="x", blocks=_broken(verified_answer(), change))


@pytest.mark.parametrize("value", [None, "", "  ", 7])
def test_a_verify_value_that_names_no_job_is_refused(value: Any) -> None:
    with pytest.raises(BadReviewPayload, match="not a job id"):
        verify_value(value)


@pytest.mark.parametrize("value", [None, "Ev1", "[]", '{"entry_id": "e"}',
                                   '{"entry_id": "", "job_id": "Ev1"}',
                                   '{"entry_id": 3, "job_id": "Ev1"}'])
def test_a_retire_value_that_names_no_entry_and_job_is_refused(value: Any) -> None:
    with pytest.raises(BadReviewPayload, match="not an entry and a job"):
        retire_value(value)
