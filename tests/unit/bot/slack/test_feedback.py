"""Feedback buttons through the real ingress path: signed clicks and modal submissions in,
votes in FEEDBACK_TABLE (moto), views.open and the thank-you through the Slack stand-in."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.answer import Answer, Usage
from bot.feedback import DOWN, UP
from bot.ingress.metrics import FEEDBACK_DOWN, FEEDBACK_UP
from bot.job import Job, ReplyTo
from bot.slack.feedback import REASON_VIEW, THANKS, ReasonAsked, feedback_block, reason_view
from bot.slack.render import render_answer
from executor.cli import main
from tests.support.events import slack_payload, with_body
from tests.support.ingress import IngressStack
from tests.support.metrics import Emitted, flushed
from tests.support.signing import SignedEvent
from tests.support.slack_api import SlackApiStandIn

JOB = "Ev08ABCDEF"
QUESTION = "how many users signed up in October?"
SQL = "SELECT count(*) FROM users WHERE signed_up >= '2026-10-01'"


def click(value: str, user: str = "U0001", change: Callable[[dict[str, Any]], None] | None = None
          ) -> dict[str, Any]:
    """events/block_actions_feedback.json: `user` pressed the button whose value is `value`."""
    payload = slack_payload("block_actions_feedback")
    payload["actions"][0]["value"] = value
    payload["user"]["id"] = user
    if change:
        change(payload)
    return _form("block_actions_feedback", payload)


def submission(user: str = "U0001", change: Callable[[dict[str, Any]], None] | None = None
               ) -> dict[str, Any]:
    """events/view_submission_feedback.json: `user` sent the 👎 modal ("wrong numbers")."""
    payload = slack_payload("view_submission_feedback")
    payload["user"]["id"] = user
    if change:
        change(payload)
    return _form("view_submission_feedback", payload)


def _form(name: str, payload: dict[str, Any]) -> dict[str, Any]:
    return with_body(name, urlencode({"payload": json.dumps(payload)}),
                     "application/x-www-form-urlencoded")


def answered(stack: IngressStack, *, verified: bool = False) -> Answer:
    """JOB answered and recorded in JOBS_TABLE, as the worker leaves it."""
    answer = Answer(text="1,234 users signed up in October.", sql=[SQL], verified=verified,
                    entry_id="signups_by_month" if verified else None,
                    usage=Usage(model_id=None if verified else "us.anthropic.claude-sonnet-4"))
    jobs = stack.job_store()
    job = Job(job_id=JOB, text=QUESTION, source="slack", conversation_id="C0001",
              user_id="U0001", received_at="2026-11-30T00:00:00Z",
              reply_to=ReplyTo(kind="slack", channel="C0001", thread_ts="1795284000.000100"))
    jobs.claim(job, attempt=1)
    jobs.mark_done(JOB, answer.to_dict())
    return answer


def test_a_thumbs_up_is_recorded_with_what_it_was_about_and_thanked_privately(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    # GIVEN an answered job
    answered(ingress_stack, verified=True)
    # WHEN its asker presses 👍
    response = ingress_stack.slack()(signed_event(click(f"up:{JOB}")))

    # THEN the vote is kept with the question, SQL and verified entry of the answer
    assert response["statusCode"] == 200
    [vote] = ingress_stack.feedback_store().votes()
    assert (vote.job_id, vote.user_id, vote.value, vote.team_id) == (JOB, "U0001", UP, "T0001")
    assert (vote.question, vote.sql, vote.verified, vote.entry_id) == (
        QUESTION, [SQL], True, "signups_by_month")
    assert vote.voted_at.endswith("Z")
    # AND the voter alone is thanked, in the answer's thread; no modal
    [thanks] = ingress_stack.slack_api.accepted("chat.postEphemeral")
    assert thanks.args["user"] == "U0001" and thanks.args["channel"] == "C0001"
    assert thanks.args["thread_ts"] == "1795284000.000100"
    assert thanks.args["text"] == THANKS
    assert ingress_stack.slack_api.count("views.open") == 0
    assert ingress_stack.slack_api.count("chat.postMessage") == 0


def test_a_thumbs_down_opens_the_reason_modal_with_the_clicks_trigger(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    answered(ingress_stack)

    response = ingress_stack.slack()(signed_event(click(f"down:{JOB}")))

    assert response["statusCode"] == 200
    [opened] = ingress_stack.slack_api.accepted("views.open")
    assert opened.args["trigger_id"] == slack_payload("block_actions_feedback")["trigger_id"]
    view = json.loads(opened.args["view"]) if isinstance(opened.args["view"], str) \
        else opened.args["view"]
    assert view["callback_id"] == REASON_VIEW
    options = [o["text"]["text"] for o in view["blocks"][0]["element"]["options"]]
    assert options == ["Wrong numbers", "Wrong question understood", "Too slow", "Other"]
    assert view["blocks"][1]["optional"] is True
    assert json.loads(view["private_metadata"])["job_id"] == JOB
    [vote] = ingress_stack.feedback_store().votes()
    assert (vote.value, vote.model_id, vote.verified) == (DOWN, "us.anthropic.claude-sonnet-4",
                                                          False)
    # The thank-you waits for the modal.
    assert ingress_stack.slack_api.count("chat.postEphemeral") == 0


def test_the_modal_submission_adds_the_reason_and_thanks_the_voter(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    answered(ingress_stack)
    handler = ingress_stack.slack()
    handler(signed_event(click(f"down:{JOB}")))

    response = handler(signed_event(submission()))

    # THEN Slack closes the modal (an empty 200), the vote says why, the voter is thanked
    assert response["statusCode"] == 200 and not response.get("body")
    [vote] = ingress_stack.feedback_store().votes()
    assert (vote.value, vote.reason, vote.comment) == (
        DOWN, "wrong_numbers", "October had 1,243 sign-ups, not 1,234")
    assert vote.question == QUESTION
    [thanks] = ingress_stack.slack_api.accepted("chat.postEphemeral")
    assert (thanks.args["user"], thanks.args["channel"]) == ("U0001", "C0001")


def test_one_vote_per_person_changeable_and_every_voter_counts(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    answered(ingress_stack)
    handler = ingress_stack.slack()

    handler(signed_event(click(f"down:{JOB}", user="U0001")))
    handler(signed_event(click(f"up:{JOB}", user="U0001")))
    handler(signed_event(click(f"up:{JOB}", user="U0002")))

    votes = {vote.user_id: vote.value for vote in ingress_stack.feedback_store().votes()}
    assert votes == {"U0001": UP, "U0002": UP}


def test_a_vote_on_a_job_no_longer_recorded_is_still_kept(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    ingress_stack.slack()(signed_event(click("up:Ev0GONE")))

    [vote] = ingress_stack.feedback_store().votes()
    assert (vote.job_id, vote.question, vote.sql) == ("Ev0GONE", None, [])


def test_an_expired_trigger_still_records_the_vote_and_thanks(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    ingress_stack.slack_api.fail_next("views.open", error="expired_trigger_id")

    response = ingress_stack.slack()(signed_event(click(f"down:{JOB}")))

    assert response["statusCode"] == 200
    assert [v.value for v in ingress_stack.feedback_store().votes()] == [DOWN]
    assert ingress_stack.slack_api.count("chat.postEphemeral") == 1


def test_someone_the_allowlists_refuse_cannot_vote(
    ingress_stack: IngressStack, signed_event: SignedEvent
) -> None:
    handler = ingress_stack.slack(allowed_user_ids=frozenset({"U0OTHER"}))

    assert handler(signed_event(click(f"up:{JOB}")))["statusCode"] == 200
    assert handler(signed_event(submission()))["statusCode"] == 200

    assert ingress_stack.feedback_store().votes() == []
    assert ingress_stack.slack_api.calls == []


def _set_metadata(payload: dict[str, Any]) -> None:
    payload["view"]["private_metadata"] = "not json"


def _set_reason(payload: dict[str, Any]) -> None:
    payload["view"]["state"]["values"]["reason"]["reason"]["selected_option"]["value"] = "meh"


def _drop_reason(payload: dict[str, Any]) -> None:
    del payload["view"]["state"]["values"]["reason"]


def _numeric_value(payload: dict[str, Any]) -> None:
    payload["actions"][0]["value"] = 7


def _no_channel(payload: dict[str, Any]) -> None:
    payload["channel"] = None
    payload["container"].pop("channel_id")


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        (lambda: click("sideways:Ev1"), "not up:<job_id>"),
        (lambda: click("up:"), "not up:<job_id>"),
        (lambda: click("up:Ev1", change=_numeric_value), "value must be a string"),
        (lambda: click("up:Ev1", change=_no_channel), "no user or channel"),
        (lambda: submission(change=_set_metadata), "private_metadata"),
        (lambda: submission(change=_set_reason), "answers are unreadable"),
        (lambda: submission(change=_drop_reason), "answers are unreadable"),
    ],
)
def test_a_malformed_feedback_payload_is_a_clear_400(
    ingress_stack: IngressStack, signed_event: SignedEvent,
    ingress_logs: list[logging.LogRecord], event: Callable[[], dict[str, Any]], problem: str,
) -> None:
    response = ingress_stack.slack()(signed_event(event()))

    # THEN a 400 that says what it is, with the exact problem in the log
    assert response["statusCode"] == 400
    assert "not a Slack payload" in response["body"]
    assert any(problem in record.getMessage() for record in ingress_logs)
    assert ingress_stack.feedback_store().votes() == []


def test_votes_are_counted_as_metrics(
    ingress_stack: IngressStack, signed_event: SignedEvent, emitted: Emitted
) -> None:
    handler = ingress_stack.slack()
    handler(signed_event(click(f"up:{JOB}", user="U0001")))
    handler(signed_event(click(f"up:{JOB}", user="U0002")))
    handler(signed_event(click(f"down:{JOB}", user="U0003")))

    assert flushed(emitted) == {FEEDBACK_UP: 2, FEEDBACK_DOWN: 1}


def test_an_answer_rendered_with_buttons_then_voted_on_shows_in_databot_feedback(
    ingress_stack: IngressStack, signed_event: SignedEvent,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN an answer posted with its feedback buttons (Slack accepts the blocks)
    answer = answered(ingress_stack)
    [message] = render_answer(answer, job_id=JOB).messages
    posted = ingress_stack.slack_api
    WebClient(token=posted.token, base_url=posted.url).chat_postMessage(
        channel="C0001", thread_ts="1795284000.000100", text=message.text, blocks=message.blocks)
    buttons = message.blocks[-1]["elements"][0]
    handler = ingress_stack.slack()

    # WHEN one person presses 👍, another 👎 and says why in the modal
    handler(signed_event(click(buttons["positive_button"]["value"], user="U0001")))
    handler(signed_event(click(buttons["negative_button"]["value"], user="U0002")))
    handler(signed_event(submission(user="U0002")))

    # THEN `databot feedback` lists both, and counts them for the model
    monkeypatch.setenv("FEEDBACK_TABLE", str(ingress_stack.feedback.table))
    capsys.readouterr()
    assert main(["feedback"]) == 0
    out = capsys.readouterr().out
    assert "2 votes" in out
    assert "👍  U0001  Ev08ABCDEF" in out
    assert "👎  U0002  Ev08ABCDEF" in out and "[wrong_numbers: October had 1,243" in out
    assert "us.anthropic.claude-sonnet-4" in out and "👍    1  👎    1" in out


# ---- what Slack accepts (the stand-in checks as Slack does) -------------------------------


def _broken_buttons(change: Callable[[dict[str, Any]], None]) -> list[dict[str, Any]]:
    block = feedback_block(JOB)
    change(block)
    return [block]


@pytest.mark.parametrize(
    "change",
    [
        lambda b: b.update(elements=[]),
        lambda b: b.update(elements=[b["elements"][0]] * 6),
        lambda b: b["elements"][0].update(type="button"),
        lambda b: b["elements"][0].pop("negative_button"),
        lambda b: b["elements"][0]["positive_button"].update(value=""),
        lambda b: b["elements"][0]["positive_button"].update(value="x" * 2001),
        lambda b: b["elements"][0]["positive_button"]["text"].update(type="mrkdwn"),
        lambda b: b["elements"][0]["negative_button"]["text"].update(text="x" * 76),
    ],
)
def test_slack_rejects_malformed_feedback_buttons(
    slack_api: SlackApiStandIn, change: Callable[[dict[str, Any]], None]
) -> None:
    client = WebClient(token=slack_api.token, base_url=slack_api.url)
    client.chat_postMessage(channel="C1", text="ok", blocks=[feedback_block(JOB)])
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        client.chat_postMessage(channel="C1", text="x", blocks=_broken_buttons(change))


def _modal(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    view = reason_view(ReasonAsked(JOB, "C1", "1.2"))
    change(view)
    return view


@pytest.mark.parametrize(
    "change",
    [
        lambda v: v.update(type="home"),
        lambda v: v.update(title={"type": "plain_text", "text": "x" * 25}),
        lambda v: v.pop("title"),
        lambda v: v.update(submit={"type": "mrkdwn", "text": "Send"}),
        lambda v: v.update(close={"type": "plain_text", "text": ""}),
        lambda v: v.pop("submit"),
        lambda v: v.update(blocks=[]),
        lambda v: v["blocks"][0].pop("label"),
        lambda v: v.update(private_metadata="x" * 3001),
    ],
)
def test_views_open_rejects_what_slack_rejects(
    slack_api: SlackApiStandIn, change: Callable[[dict[str, Any]], None]
) -> None:
    client = WebClient(token=slack_api.token, base_url=slack_api.url)
    assert client.views_open(trigger_id="1.2.3", view=_modal(lambda v: None))["ok"]
    with pytest.raises(SlackApiError, match="invalid_arguments"):
        client.views_open(trigger_id="1.2.3", view=_modal(change))
    with pytest.raises(SlackApiError, match="invalid_arguments"):
        client.views_open(trigger_id="", view=_modal(lambda v: None))
