"""End to end, in several processes: a signed app_mention goes through the ingress Lambda
handler (in-process), onto SQS (moto's server), to `databot worker` (a subprocess running
the real agent, tools, DuckDB warehouse and S3 artifacts, with a scripted model), and
back to Slack (the stand-in): placeholder, progress, answer in the thread, chart upload;
and in an assistant thread: suggested prompts, a live status, the answer streamed, and
votes on its feedback buttons recorded."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest

from bot.feedback import DOWN, UP, FeedbackStore
from bot.job_store import DONE, JobStore
from bot.slack.replier import Marker
from handlers import slack_events
from tests.support.aws import AwsStack
from tests.support.events import LambdaContext, load_event, slack_payload, with_body
from tests.support.scripted_model import calls, run_sql, says, tool_use
from tests.support.signing import SIGNING_SECRET, signed
from tests.support.slack_api import SlackApiStandIn
from tests.support.worker import AGENT_ENGINE, WorkerProcess, wait_for

pytestmark = pytest.mark.integration

MONTHLY_SIGNUPS = (
    "SELECT date_trunc('month', signup_date) AS month, count(*) AS users "
    "FROM users GROUP BY 1 ORDER BY 1"
)
ANSWER = "Signups grew steadily: **see the chart** for each month since 2024."


def use_ingress_env(monkeypatch: pytest.MonkeyPatch, slack_api: SlackApiStandIn) -> None:
    """The ingress Lambda's environment, on the Slack stand-in, for a fresh handler."""
    for name, value in {"SLACK_SIGNING_SECRET": SIGNING_SECRET,
                        "SLACK_BOT_TOKEN": slack_api.token,
                        "SLACK_API_URL": slack_api.url}.items():
        monkeypatch.setenv(name, value)
    slack_events._ingress.cache_clear()


@pytest.fixture(autouse=True)
def _placeholder_path(no_channel_status: SlackApiStandIn) -> None:
    """The mention here follows the placeholder; the status line that replaces it where
    Slack allows is tested in tests/unit/bot/slack/test_channel_thread.py."""


def test_an_app_mention_is_answered_in_its_thread(
    aws_stack: AwsStack, slack_api: SlackApiStandIn, monkeypatch: pytest.MonkeyPatch,
    worker_process: Callable[..., WorkerProcess], tmp_path: Path,
) -> None:
    # GIVEN the ingress Lambda's environment on the shared AWS stack and Slack stand-in
    use_ingress_env(monkeypatch, slack_api)
    # AND a worker whose model runs SQL, draws a chart, answers, then confirms on reflection
    script = tmp_path / "script.json"
    script.write_text(json.dumps([
        run_sql(MONTHLY_SIGNUPS),
        calls(tool_use("make_chart", {"query": "q1", "kind": "line", "x": "month",
                                      "y": "users", "title": "Signups by month"})),
        says(ANSWER),
        says(ANSWER),
    ]))
    # (with streaming off: the answer replaces the placeholder, as where Slack refuses it)
    worker = worker_process(AGENT_ENGINE, MODEL_SCRIPT=str(script), MODEL_DELAY_S="0.3",
                            SLACK_STREAMING="false")

    # WHEN Slack delivers a signed app_mention
    event = signed("app_mention")
    response = slack_events.handler(event, LambdaContext())
    slack_events._ingress.cache_clear()
    assert response["statusCode"] == 200
    mention = json.loads(event["body"])["event"]

    # THEN the answer replaces the placeholder in the mention's thread, with the chart
    wait_for(lambda: slack_api.accepted("files.completeUploadExternal"), 60,
             f"the chart upload; worker log:\n{worker.log()}")
    (placeholder,) = slack_api.accepted("chat.postMessage")
    assert placeholder.args["channel"] == mention["channel"]
    assert placeholder.args["thread_ts"] == mention["ts"]
    assert placeholder.response is not None
    updates = slack_api.accepted("chat.update")
    assert {u.args["ts"] for u in updates} == {placeholder.response["ts"]}
    stages = " | ".join(u.args["text"] for u in updates[:-1])
    for stage in ("Reading the schema", "Running SQL", "Drawing a chart"):
        assert stage in stages
    final = json.dumps(updates[-1].args["blocks"])
    assert "**see the chart**" in final
    assert "date_trunc('month', signup_date)" in final
    # 35 months from 2024-01 to 2026-11, the latest 20 shown (docs/periods.md)
    assert "latest 20 of 35 months" in final and "2026-10-01T00:00:00" in final
    assert "ref `Ev08ABCDEF`" in final
    (upload,) = slack_api.calls_to("upload")
    assert upload.body.startswith(b"\x89PNG")
    (complete,) = slack_api.accepted("files.completeUploadExternal")
    assert complete.args["thread_ts"] == mention["ts"]
    assert json.loads(complete.args["files"])[0]["title"] == "Signups by month"
    # AND the job is done and its message gone from the queue
    record = JobStore(aws_stack.jobs_table, client=boto3.client("dynamodb")).get("Ev08ABCDEF")
    assert record is not None and record.status == DONE
    wait_for(lambda: aws_stack.queue_depth() == (0, 0), 30, "an empty queue")


def test_an_assistant_thread_greets_shows_status_streams_the_answer_and_takes_votes(
    aws_stack: AwsStack, slack_api: SlackApiStandIn, monkeypatch: pytest.MonkeyPatch,
    worker_process: Callable[..., WorkerProcess], tmp_path: Path,
) -> None:
    # GIVEN the ingress Lambda's environment, and a worker whose model runs SQL and answers
    use_ingress_env(monkeypatch, slack_api)
    script = tmp_path / "script.json"
    script.write_text(json.dumps([run_sql(MONTHLY_SIGNUPS), says(ANSWER), says(ANSWER)]))
    worker = worker_process(AGENT_ENGINE, MODEL_SCRIPT=str(script), MODEL_DELAY_S="0.3",
                            PROGRESS_INTERVAL_S="0")
    slack_api.set_channel("C0REV", "revenue-reports")

    # WHEN a person opens an assistant thread while viewing #revenue-reports
    assert slack_events.handler(signed("assistant_thread_started"),
                                LambdaContext())["statusCode"] == 200
    # THEN the worker greets the thread with suggested prompts, revenue first
    wait_for(lambda: slack_api.accepted("assistant.threads.setSuggestedPrompts"), 60,
             f"the suggested prompts; worker log:\n{worker.log()}")
    (prompts,) = slack_api.accepted("assistant.threads.setSuggestedPrompts")
    assert 0 < len(prompts.args["prompts"]) <= 4
    assert "revenue" in prompts.args["prompts"][0]["message"].lower()

    # WHEN they ask a question in the thread
    assert slack_events.handler(signed("message_im_assistant"),
                                LambdaContext())["statusCode"] == 200
    # THEN the status follows the agent's stages, then the answer streams into the thread
    # and is stopped with its blocks, ending with the feedback buttons
    wait_for(lambda: slack_api.accepted("chat.stopStream"), 60,
             f"the streamed answer; worker log:\n{worker.log()}")
    statuses = " | ".join(m for call in slack_api.accepted("assistant.threads.setStatus")
                          for m in call.args.get("loading_messages") or [])
    for stage in ("Reading the schema", "Running SQL", "Checking the answer"):
        assert stage in statuses
    (title,) = slack_api.accepted("assistant.threads.setTitle")
    assert title.args["title"] == "what was our total revenue?"
    (start,) = slack_api.accepted("chat.startStream")
    assert start.args["channel"] == "D0001" and start.args["thread_ts"] == "1795284200.000100"
    methods = [call.method for call in slack_api.calls]
    assert methods.index("chat.startStream") < methods.index("chat.stopStream")
    (stop,) = slack_api.accepted("chat.stopStream")
    answer = slack_api.messages[stop.args["ts"]]
    assert answer.streamed == "Signups grew steadily: **see the chart** for each month since 2024."
    assert Marker.read(answer.metadata) == Marker("answer", "Ev08AT0002", messages=1)
    assert "date_trunc" in json.dumps(answer.blocks)
    buttons = answer.blocks[-1]
    assert buttons["type"] == "context_actions"
    # AND only the greeting was posted; the status was cleared once the answer was out
    (greeting,) = slack_api.accepted("chat.postMessage")
    assert greeting.args["thread_ts"] == "1795284200.000100"
    assert slack_api.accepted("assistant.threads.setStatus")[-1].args["status"] == ""
    wait_for(lambda: aws_stack.queue_depth() == (0, 0), 30, "an empty queue")

    # WHEN the asker presses 👍 on the answer, and a colleague 👎 with a reason
    (feedback,) = buttons["elements"]
    vote(click(feedback["positive_button"]["value"], "U0001"))
    vote(click(feedback["negative_button"]["value"], "U0002"))
    (opened,) = slack_api.accepted("views.open")
    vote(submission("U0002", opened.args["view"]["private_metadata"]))
    slack_events._ingress.cache_clear()
    # THEN both votes are recorded on the answer, the 👎 with its reason
    votes = {v.user_id: v for v in FeedbackStore(aws_stack.feedback_table).votes()}
    assert (votes["U0001"].job_id, votes["U0001"].value) == ("Ev08AT0002", UP)
    assert (votes["U0002"].value, votes["U0002"].reason) == (DOWN, "wrong_numbers")
    assert votes["U0001"].question == "what was our total revenue?"


def vote(event: dict[str, Any]) -> None:
    assert slack_events.handler(signed(event), LambdaContext())["statusCode"] == 200


def click(value: str, user: str) -> dict[str, Any]:
    """events/block_actions_feedback.json: `user` pressed the feedback button `value`."""
    payload = slack_payload("block_actions_feedback")
    payload["actions"][0]["value"] = value
    payload["user"]["id"] = user
    return _form("block_actions_feedback", payload)


def submission(user: str, private_metadata: str) -> dict[str, Any]:
    """events/view_submission_feedback.json: `user` sent the 👎 modal ("wrong numbers")."""
    payload = slack_payload("view_submission_feedback")
    payload["user"]["id"] = user
    payload["view"]["private_metadata"] = private_metadata
    return _form("view_submission_feedback", payload)


def _form(name: str, payload: dict[str, Any]) -> dict[str, Any]:
    return with_body(name, urlencode({"payload": json.dumps(payload)}),
                     "application/x-www-form-urlencoded")


def test_a_question_in_an_assistant_thread_reaches_the_worker_with_the_channel_viewed_now(
    aws_stack: AwsStack, slack_api: SlackApiStandIn, monkeypatch: pytest.MonkeyPatch,
    worker_process: Callable[..., WorkerProcess], tmp_path: Path,
) -> None:
    # GIVEN the ingress, and a worker whose model answers at once
    use_ingress_env(monkeypatch, slack_api)
    script = tmp_path / "script.json"
    script.write_text(json.dumps([says(ANSWER)]))
    worker = worker_process(AGENT_ENGINE, MODEL_SCRIPT=str(script), SLACK_STREAMING="false")
    slack_api.set_channel("C0REV", "revenue-reports")
    slack_api.set_channel("C0NEW", "sales-pipeline", topic="Deals by stage")
    # WHEN a person opens an assistant thread beside #revenue-reports, switches to
    # #sales-pipeline, then asks in the thread
    started = load_event("assistant_thread_started")
    changed = json.loads(started["body"])
    changed["event"]["type"] = "assistant_thread_context_changed"
    changed["event"]["assistant_thread"]["context"]["channel_id"] = "C0NEW"
    changed["event_id"] = "Ev08CC0001"
    started_then_changed = [signed(started), signed({**started, "body": json.dumps(changed)})]
    for event in [*started_then_changed, signed("message_im_assistant")]:
        assert slack_events.handler(event, LambdaContext())["statusCode"] == 200
    slack_events._ingress.cache_clear()
    # THEN the answer comes, and the worker looked up the channel viewed now for the model
    wait_for(lambda: len(slack_api.accepted("chat.postMessage")) == 2, 60,
             f"the answer; worker log:\n{worker.log()}")
    looked_up = [call.args["channel"] for call in slack_api.accepted("conversations.info")]
    assert sorted(looked_up) == ["C0NEW", "C0REV"]  # the question's, the greeting's
    wait_for(lambda: aws_stack.queue_depth() == (0, 0), 30, "an empty queue")
