"""What the ingress reads from Slack payloads, as pure functions of the sample events."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import pytest

from bot.ingress.http_events import parse_http_event
from bot.job import Job
from bot.questions import length_problem, strip_bot_mention
from bot.slack.questions import bot_user_id, question_from_command, question_from_event
from tests.support.events import load_event


def body_of(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(parse_http_event(load_event(name)).text())
    return body


def test_app_mention_becomes_a_job_in_the_thread_of_the_mention() -> None:
    question = question_from_event(body_of("app_mention"))

    assert question is not None
    job = question.to_job()
    assert job.job_id == "Ev08ABCDEF"
    assert job.source == "slack"
    assert job.text == "how many users signed up each month?"
    assert job.user_id == "U0001"
    assert job.conversation_id == "T0001:C0001:1795284000.000100"
    assert job.reply_to.kind == "slack"
    assert (job.reply_to.team_id, job.reply_to.channel) == ("T0001", "C0001")
    assert job.reply_to.thread_ts == "1795284000.000100"
    assert job.reply_to.response_url is None
    # The worker reads exactly what the ingress writes.
    assert Job.from_json(job.to_json()) == job


def test_mention_inside_a_thread_replies_in_that_thread() -> None:
    body = body_of("app_mention")
    body["event"]["thread_ts"] = "1795283000.000050"

    question = question_from_event(body)

    assert question is not None
    assert question.thread_ts == "1795283000.000050"
    assert question.conversation_id == "T0001:C0001:1795283000.000050"


def test_direct_message_becomes_a_job() -> None:
    question = question_from_event(body_of("message_im"))

    assert question is not None
    assert (question.key, question.channel, question.user_id) == ("Ev08DM0001", "D0001", "U0001")
    assert question.text == "what share of pro users churned last quarter?"
    assert question.thread_ts == "1795284100.000200"


@pytest.mark.parametrize("name", ["message_bot", "message_changed"])
def test_bot_messages_and_edits_are_ignored(name: str) -> None:
    assert question_from_event(body_of(name)) is None


@pytest.mark.parametrize(
    "change",
    [
        {"subtype": "message_deleted"},
        {"subtype": "bot_message"},
        {"bot_id": "B0OTHER"},
        {"user": "UBOT"},  # the bot itself, known from `authorizations`
        {"channel_type": "channel"},  # a plain channel message: mentions come as app_mention
    ],
)
def test_messages_the_bot_must_not_answer_are_ignored(change: dict[str, str]) -> None:
    body = body_of("message_im")
    body["event"].update(change)

    assert question_from_event(body) is None


def test_the_bots_user_id_comes_from_authorizations() -> None:
    body = body_of("app_mention")
    assert bot_user_id(body) == "UBOT"
    body["authorizations"] = [{"team_id": "T0001", "user_id": "U0HUMAN", "is_bot": False}]
    assert bot_user_id(body) is None


def test_slash_command_job_answers_in_the_channel_or_through_response_url() -> None:
    command = dict(parse_qsl(parse_http_event(load_event("slash_command")).text()))

    job = question_from_command(command).to_job()

    assert job.job_id == command["trigger_id"]
    assert job.text == "top 5 categories by revenue in 2026"
    assert job.user_id == "U0002"
    assert job.reply_to.channel == "C0002"
    assert job.reply_to.thread_ts is None
    assert job.reply_to.response_url == command["response_url"]
    assert job.conversation_id == f"T0001:C0002:{command['trigger_id']}"


@pytest.mark.parametrize(
    ("text", "bot", "expected"),
    [
        ("<@UBOT> how many users?", "UBOT", "how many users?"),
        ("<@UBOT|databot> how many users?", "UBOT", "how many users?"),
        ("how many users, <@UBOT>?", "UBOT", "how many users, ?"),
        ("<@UBOT> compare <@U0002> and <@U0003>", "UBOT", "compare <@U0002> and <@U0003>"),
        ("<@UBOT>", "UBOT", ""),
        ("  <@UBOT>   ", "UBOT", ""),
        ("<@UBOT> how many users?", None, "how many users?"),
        ("ask <@U0002> about it", None, "ask <@U0002> about it"),
    ],
)
def test_strip_bot_mention(text: str, bot: str | None, expected: str) -> None:
    assert strip_bot_mention(text, bot) == expected


def test_length_problem_names_the_length_and_the_limit() -> None:
    assert length_problem("x" * 4000, 4000) is None
    assert length_problem("x" * 4001, 4000) == (
        "the question is 4,001 characters long; the limit is 4,000"
    )
