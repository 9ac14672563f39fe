"""Streamed answers in Slack (bot/slack/stream.py, the outboxes' `draft()`), driven by the
job runner against the Slack stand-in: the text streams into the thread and the stream is
stopped with the answer's blocks and marker; every way streaming can be unavailable falls
back to the post/update path with nothing lost; a stream a killed worker left unfinished is
replaced on takeover; and the stand-in's streaming methods check what Slack checks."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.delivery import Channels
from bot.job_store import DONE, JobStore
from bot.slack.mrkdwn import to_markdown
from bot.slack.outbox import SlackChannel
from bot.slack.replier import SlackReplier
from bot.slack.stream import _streamable_markdown
from executor.engine import Request
from executor.worker.metrics import WorkerMetrics
from executor.worker.runner import Action, JobRunner
from tests.support.aws import AwsStack
from tests.support.scripted_engine import ScriptedEngine
from tests.support.slack_api import Message, SlackApiStandIn
from tests.support.takeover import (
    ANSWER,
    CONFIG,
    Killed,
    KillSwitch,
    marked,
    message,
)
from tests.support.worker import slack_job

Runners = Callable[[KillSwitch, ScriptedEngine], JobRunner]
THREAD = "1730000000.000100"
LONG_TEXT = ("**42** users signed up in March, up from 30 in February. " * 6).strip()


@pytest.fixture(autouse=True)
def _placeholder_path(no_channel_status: SlackApiStandIn) -> None:
    """Channel threads here show a placeholder; streaming under the status line that
    replaces it where Slack allows is tested in test_channel_thread.py."""


def streamed_engine(tmp_path: Path, turns: int = 1) -> ScriptedEngine:
    return ScriptedEngine(turns=turns, chart_dir=tmp_path, stream=True, text=LONG_TEXT)


def block_types(message: Message) -> list[str]:
    return [block["type"] for block in message.blocks]


def test_a_channel_answer_streams_then_stops_with_its_blocks(
    runner_for: Runners, slack_api: SlackApiStandIn, aws_stack: AwsStack, tmp_path: Path,
) -> None:
    # GIVEN a question in a channel thread, answered by an engine that streams its text
    job = slack_job()
    # WHEN the runner delivers it
    outcome = runner_for(KillSwitch(), streamed_engine(tmp_path)).run(message(job, 1))
    # THEN a stream started in the thread for the person, with the recipient Slack needs
    assert outcome.action is Action.DELETE
    (start,) = slack_api.accepted("chat.startStream")
    assert (start.args["thread_ts"], start.args["recipient_user_id"],
            start.args["recipient_team_id"]) == (THREAD, "U0001", "T0001")
    # AND it was stopped with the SQL, the table, the footer and the feedback buttons,
    # marked as the answer; the message's text is the whole answer's
    thread = slack_api.thread("C0001", THREAD)
    (answer,) = marked(thread, job, "answer")
    assert answer.streamed == to_markdown(LONG_TEXT)
    assert not answer.streaming
    assert block_types(answer)[-1] == "context_actions"
    assert "table" in block_types(answer) and "SELECT" in json.dumps(answer.blocks)
    assert "markdown" not in block_types(answer)
    # AND the placeholder is gone, the chart was uploaded, the job recorded done
    assert marked(thread, job, "placeholder") == []
    assert slack_api.count("chat.delete") == 1
    assert [m for m in thread if m.files]
    record = JobStore(aws_stack.jobs_table, client=boto3.client("dynamodb")).get(job.job_id)
    assert record is not None and record.status == DONE


def test_an_assistant_thread_streams_the_answer_and_clears_the_status(
    runner_for: Runners, slack_api: SlackApiStandIn, tmp_path: Path,
) -> None:
    job = slack_job(channel="D0001", thread_ts=THREAD, surface="assistant")
    runner_for(KillSwitch(), streamed_engine(tmp_path)).run(message(job, 1))
    (answer,) = marked(slack_api.thread("D0001", THREAD), job, "answer")
    assert answer.streamed == to_markdown(LONG_TEXT)
    statuses = [c.args["status"] for c in slack_api.accepted("assistant.threads.setStatus")]
    assert statuses[-1] == ""
    methods = [c.method for c in slack_api.calls]
    assert methods.index("chat.startStream") < methods.index("chat.stopStream")
    assert slack_api.count("chat.postMessage") == 0


@pytest.mark.parametrize("refusal", ["feature_not_enabled", "not_allowed", "unknown_method"])
def test_a_refused_stream_falls_back_to_the_placeholder_edit(
    runner_for: Runners, slack_api: SlackApiStandIn, tmp_path: Path, refusal: str,
) -> None:
    # GIVEN a workspace that refuses chat.startStream
    slack_api.refuse_streams(refusal)
    job = slack_job()
    # WHEN a streamed answer is delivered
    outcome = runner_for(KillSwitch(), streamed_engine(tmp_path)).run(message(job, 1))
    # THEN it was tried once, and the answer replaced the placeholder as without streaming
    assert outcome.action is Action.DELETE
    assert slack_api.count("chat.startStream") == 1
    (answer,) = marked(slack_api.thread("C0001", THREAD), job, "answer")
    assert "markdown" in block_types(answer) and answer.streamed == ""
    assert answer.ts == marked_placeholder_ts(slack_api, job)


def marked_placeholder_ts(slack_api: SlackApiStandIn, job: Any) -> str:
    (posted,) = [c for c in slack_api.accepted("chat.postMessage")
                 if "Working on it" in c.args["text"]]
    return str((posted.response or {})["ts"])


@pytest.mark.parametrize("method", ["chat.appendStream", "chat.stopStream"])
def test_a_failing_append_or_stop_ends_with_a_whole_answer_and_no_stream_left(
    runner_for: Runners, slack_api: SlackApiStandIn, tmp_path: Path, method: str,
) -> None:
    # GIVEN Slack refusing the stream's later calls
    slack_api.fail_next(method, error="invalid_arguments", times=5)
    job = slack_job()

    class SlowStream(ScriptedEngine):
        def answer(self, request: Request) -> Any:
            # Two writes a second apart, so the second is an append.
            assert request.draft is not None
            request.draft.write(LONG_TEXT[:100] + " ")
            time.sleep(1.05)
            request.draft.write(LONG_TEXT[100:])
            return ScriptedEngine.answer(self, request)

    outcome = runner_for(KillSwitch(), SlowStream(turns=0, chart_dir=tmp_path,
                                                  text=LONG_TEXT)).run(message(job, 1))
    # THEN the answer is whole on the placeholder, and no streamed message is left
    assert outcome.action is Action.DELETE
    thread = slack_api.thread("C0001", THREAD)
    (answer,) = marked(thread, job, "answer")
    assert LONG_TEXT[:40] in json.dumps(answer.blocks)
    assert [m for m in thread if m.streamed] == []


def test_a_discarded_draft_is_deleted_and_the_answer_streams_anew(
    runner_for: Runners, slack_api: SlackApiStandIn, tmp_path: Path,
) -> None:
    class Rethinks(ScriptedEngine):
        def answer(self, request: Request) -> Any:
            assert request.draft is not None
            request.draft.write("Not the answer after all, a tool is called next. ")
            request.draft.discard()
            return ScriptedEngine.answer(self, request)

    job = slack_job()
    runner_for(KillSwitch(), Rethinks(turns=0, chart_dir=tmp_path, stream=True,
                                      text=LONG_TEXT)).run(message(job, 1))
    thread = slack_api.thread("C0001", THREAD)
    assert slack_api.count("chat.startStream") == 2
    assert [m.streamed for m in thread if m.streamed] == [to_markdown(LONG_TEXT)]


def test_an_answer_that_is_not_the_streamed_text_replaces_the_stream(
    runner_for: Runners, slack_api: SlackApiStandIn, tmp_path: Path,
) -> None:
    # GIVEN an engine whose answer is not what it streamed (a budget cap rewrote it)
    class Rewrites(ScriptedEngine):
        def answer(self, request: Request) -> Any:
            assert request.draft is not None
            request.draft.write("A draft that the answer does not continue. ")
            return ScriptedEngine.answer(self, request)

    job = slack_job()
    runner_for(KillSwitch(), Rewrites(turns=0, chart_dir=tmp_path)).run(message(job, 1))
    thread = slack_api.thread("C0001", THREAD)
    (answer,) = marked(thread, job, "answer")
    assert ANSWER in json.dumps(answer.blocks)
    assert [m for m in thread if m.streamed] == []


def test_a_slash_command_answered_through_response_url_does_not_stream(
    runner_for: Runners, slack_api: SlackApiStandIn, tmp_path: Path,
) -> None:
    slack_api.fail_next("chat.postMessage", error="not_in_channel", times=3)
    engine = streamed_engine(tmp_path)
    job = slack_job(thread_ts=None, response_url=slack_api.response_url())
    runner_for(KillSwitch(), engine).run(message(job, 1))
    assert engine.requests[0].draft is None
    assert slack_api.count("chat.startStream") == 0
    assert slack_api.count("response_url") >= 1


def test_streaming_can_be_turned_off(slack_api: SlackApiStandIn, aws_stack: AwsStack,
                                     tmp_path: Path) -> None:
    engine = streamed_engine(tmp_path)
    client = WebClient(token=slack_api.token, base_url=slack_api.url)
    runner = JobRunner(engine, JobStore(aws_stack.jobs_table, client=boto3.client("dynamodb")),
                       config=CONFIG, metrics=WorkerMetrics(None), channels=Channels(
                           {"slack": SlackChannel(SlackReplier(client), streaming=False)}))
    runner.run(message(slack_job(), 1))
    assert engine.requests[0].draft is None
    assert slack_api.count("chat.startStream") == 0


@pytest.mark.parametrize("surface", [None, "assistant"], ids=["channel", "assistant"])
@pytest.mark.parametrize("step", ["chat.startStream", "chat.stopStream"])
def test_a_worker_killed_while_streaming_is_taken_over_with_one_answer(
    runner_for: Runners, slack_api: SlackApiStandIn, aws_stack: AwsStack, tmp_path: Path,
    step: str, surface: str | None,
) -> None:
    channel = "D0001" if surface else "C0001"
    # GIVEN the steps of a streamed job (no progress stages: their timer would move them)
    clean = KillSwitch()
    runner_for(clean, streamed_engine(tmp_path, turns=0)).run(message(
        slack_job(channel=channel + "X", surface=surface), 1))
    # (killed right after the stream started and was recorded, or after it was stopped)
    at = clean.steps.index(step)
    kill_after = (clean.steps.index("update_item", at) if step == "chat.startStream"
                  else at) + 1
    job = slack_job(channel=channel, surface=surface)
    engine = streamed_engine(tmp_path, turns=0)
    # WHEN a worker is killed there (a stream left unfinished, or the answer out)
    with pytest.raises(Killed):
        runner_for(KillSwitch(kill_after), engine).run(message(job, 1))
    left = [m for m in slack_api.thread(channel, THREAD) if m.streamed]
    assert [m.streaming for m in left] == [step == "chat.startStream"]
    # AND another worker takes the job over
    outcome = runner_for(KillSwitch(), engine).run(message(job, 2))
    # THEN the thread holds one finished answer and no unfinished stream
    assert outcome.action is Action.DELETE
    thread = slack_api.thread(channel, THREAD)
    (answer,) = marked(thread, job, "answer")
    assert not answer.streaming
    assert [m for m in thread if m.streaming] == []
    assert [m for m in thread if m.streamed and m is not answer] == []
    assert len(engine.requests) == (1 if step == "chat.stopStream" else 2)
    # AND no placeholder is left above it (a takeover deletes one its delivery left)
    assert marked(thread, job, "placeholder") == []


def test_streamable_text_stops_where_a_later_character_could_change_it() -> None:
    assert _streamable_markdown("Most users are") == "Most users"
    assert _streamable_markdown("a & b\nsee [the docs](http") == "a &amp; b\nsee"
    assert _streamable_markdown("rows:\n```sql\nSELECT 1") == "rows:"
    assert _streamable_markdown("rows:\n```\nx\n```\nafter it") == "rows:\n```\nx\n```\nafter"


def slack_client(slack_api: SlackApiStandIn) -> WebClient:
    return WebClient(token=slack_api.token, base_url=slack_api.url)


def test_the_stand_in_needs_a_recipient_for_channel_streams(slack_api: SlackApiStandIn) -> None:
    client = slack_client(slack_api)
    with pytest.raises(SlackApiError, match="invalid_arguments"):
        client.chat_startStream(channel="C0001", thread_ts=THREAD, markdown_text="hi")
    client.chat_startStream(channel="D0001", thread_ts=THREAD, markdown_text="hi")
    with pytest.raises(SlackApiError, match="invalid_arguments"):
        client.chat_startStream(channel="D0001", thread_ts="", markdown_text="hi")


def test_the_stand_in_checks_the_streaming_state_and_sizes(slack_api: SlackApiStandIn) -> None:
    client = slack_client(slack_api)
    ts = client.chat_startStream(channel="C0001", thread_ts=THREAD, recipient_user_id="U1",
                                 recipient_team_id="T1", markdown_text="hi")["ts"]
    with pytest.raises(SlackApiError, match="msg_too_long"):
        client.chat_appendStream(channel="C0001", ts=ts, markdown_text="x" * 12001)
    client.chat_appendStream(channel="C0001", ts=ts, markdown_text=" there")
    with pytest.raises(SlackApiError, match="msg_blocks_too_long"):
        client.chat_stopStream(channel="C0001", ts=ts, blocks=[
            {"type": "section", "text": {"type": "mrkdwn", "text": "y" * 3000}}] * 4)
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        client.chat_stopStream(channel="C0001", ts=ts, blocks=[{"type": "bogus"}])
    client.chat_stopStream(channel="C0001", ts=ts, metadata={"event_type": "databot_answer",
                                                             "event_payload": {"job_id": "J"}})
    assert slack_api.messages[ts].streamed == "hi there"
    assert slack_api.messages[ts].metadata["event_payload"]["job_id"] == "J"
    for call in (client.chat_appendStream, client.chat_stopStream):
        with pytest.raises(SlackApiError, match="message_not_in_streaming_state"):
            call(channel="C0001", ts=ts, markdown_text="late")
