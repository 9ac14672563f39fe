"""Replies to a mention in a channel thread (bot/slack/channel_thread.py), driven by the
job runner: Slack's status line follows the agent's stages and the answer is posted in the
thread; where Slack refuses the status, today's placeholder carries the job; a worker
killed at any step leaves one answer after a takeover."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import boto3

from bot.job_store import DONE, JobStore
from bot.slack.assistant import RETRYING
from executor.errors import TransientError, UnsafeSQL
from executor.worker.runner import Action, JobRunner
from tests.support.aws import AwsStack
from tests.support.scripted_engine import STAGES, ScriptedEngine
from tests.support.slack_api import SlackApiStandIn
from tests.support.takeover import (
    ANSWER,
    KillSwitch,
    assert_one_answer_without_placeholder,
    killed_then_taken_over,
    marked,
    message,
)
from tests.support.worker import slack_job

Runners = Callable[[KillSwitch, ScriptedEngine], JobRunner]
THREAD = "1730000000.000100"
SET_STATUS = "assistant.threads.setStatus"


def methods(slack_api: SlackApiStandIn) -> list[str]:
    """The Web API methods Slack accepted, in order."""
    return [call.method for call in slack_api.calls if call.response and call.response.get("ok")]


def test_a_mention_shows_the_stages_as_status_then_the_answer_is_posted(
    runner_for: Runners, slack_api: SlackApiStandIn, tmp_path: Path,
) -> None:
    # GIVEN a mention in a channel thread and an engine that goes through three stages
    job = slack_job(channel="C0001", thread_ts=THREAD)
    engine = ScriptedEngine(turns=3, delay_s=0.05, chart_dir=tmp_path)
    # WHEN it is answered
    outcome = runner_for(KillSwitch(), engine).run(message(job, 1))
    # THEN the thread's status line follows the stages, and the answer is posted after the
    # last status (which it clears); no placeholder is posted or edited
    assert outcome.action is Action.DELETE
    statuses = slack_api.accepted(SET_STATUS)
    assert {call.args["channel_id"] for call in statuses} == {"C0001"}
    assert [call.args["loading_messages"] for call in statuses] == (
        [["Reading your question…"]] + [[f"{stage}…"] for stage in STAGES])
    calls = methods(slack_api)
    last_status = len(calls) - 1 - calls[::-1].index(SET_STATUS)
    assert calls.index("chat.postMessage") > last_status
    assert "chat.update" not in calls
    thread = slack_api.thread("C0001", THREAD)
    assert not marked(thread, job, "placeholder")
    (answer,) = marked(thread, job, "answer")
    assert ANSWER in json.dumps(answer.blocks)


def test_where_slack_refuses_the_status_the_placeholder_carries_the_job(
    runner_for: Runners, slack_api: SlackApiStandIn, tmp_path: Path,
) -> None:
    # GIVEN a workspace that takes no status in channel threads
    slack_api.refuse_channel_status()
    job = slack_job(channel="C0001", thread_ts=THREAD)
    # WHEN a mention is answered
    outcome = runner_for(KillSwitch(), ScriptedEngine(turns=2, chart_dir=tmp_path)).run(
        message(job, 1))
    # THEN a placeholder is posted, and its edits end with the answer
    assert outcome.action is Action.DELETE
    assert slack_api.accepted(SET_STATUS) == [] and slack_api.calls_to(SET_STATUS)
    thread = slack_api.thread("C0001", THREAD)
    (answer,) = marked(thread, job, "answer")
    posts = slack_api.accepted("chat.postMessage")
    assert "Working on it" in posts[0].args["text"]
    placeholder_ts = str((posts[0].response or {})["ts"])
    assert answer.ts == placeholder_ts
    assert {call.args["ts"] for call in slack_api.accepted("chat.update")} == {placeholder_ts}


def test_a_failure_is_posted_in_place_of_the_status(
    runner_for: Runners, slack_api: SlackApiStandIn, tmp_path: Path,
) -> None:
    job = slack_job(channel="C0001", thread_ts=THREAD)
    engine = ScriptedEngine(turns=1, chart_dir=tmp_path,
                            error=UnsafeSQL("only SELECT statements are allowed"))

    outcome = runner_for(KillSwitch(), engine).run(message(job, 1))

    assert outcome.action is Action.DELETE
    assert methods(slack_api)[-1] == "chat.postMessage"
    (error,) = slack_api.thread("C0001", THREAD)
    assert "only SELECT statements are allowed" in json.dumps(error.blocks)
    assert "chat.update" not in methods(slack_api)


def test_a_retry_is_shown_in_the_status(
    runner_for: Runners, slack_api: SlackApiStandIn, tmp_path: Path,
) -> None:
    job = slack_job(channel="C0001", thread_ts=THREAD)
    engine = ScriptedEngine(turns=0, chart_dir=tmp_path, error=TransientError("throttled"))

    outcome = runner_for(KillSwitch(), engine).run(message(job, 1))

    assert outcome.action is Action.RETRY
    assert slack_api.accepted(SET_STATUS)[-1].args["status"] == RETRYING
    assert slack_api.thread("C0001", THREAD) == []


def test_direct_messages_and_slash_commands_keep_the_placeholder(
    runner_for: Runners, slack_api: SlackApiStandIn, tmp_path: Path,
) -> None:
    runner = runner_for(KillSwitch(), ScriptedEngine(turns=0, chart_dir=tmp_path))

    runner.run(message(slack_job(channel="D0001", thread_ts=THREAD), 1))
    runner.run(message(slack_job(channel="C0002", thread_ts=None), 1))

    assert slack_api.calls_to(SET_STATUS) == []
    placeholders = [call for call in slack_api.accepted("chat.postMessage")
                    if "Working on it" in call.args["text"]]
    assert {call.args["channel"] for call in placeholders} == {"D0001", "C0002"}


def test_a_worker_killed_after_any_step_leaves_one_answer_and_no_placeholder(
    runner_for: Runners, slack_api: SlackApiStandIn, aws_stack: AwsStack, tmp_path: Path,
) -> None:
    # GIVEN the steps of one job, counted on a run that is not killed
    clean = KillSwitch()
    runner_for(clean, ScriptedEngine(turns=0, chart_dir=tmp_path)).run(
        message(slack_job(channel="CCLEAN", thread_ts=THREAD), 1))
    jobs = JobStore(aws_stack.jobs_table, client=boto3.client("dynamodb"))
    for kill_after, step in enumerate(clean.steps, start=1):
        channel = f"C{kill_after:04d}"
        job = slack_job(channel=channel, thread_ts=THREAD)
        engine = ScriptedEngine(turns=0, chart_dir=tmp_path)
        # WHEN a worker is killed right after that step, and another takes the job over
        outcome = killed_then_taken_over(runner_for, job, engine, kill_after)
        # THEN the thread holds one answer with its chart (or a note), and no placeholder
        where = f"killed after step {kill_after} ({step})"
        assert outcome.action is Action.DELETE, where
        assert_one_answer_without_placeholder(slack_api.thread(channel, THREAD), job, where)
        record = jobs.get(job.job_id)
        assert record is not None and record.status == DONE, where


def test_a_streamed_answer_under_the_status_line_clears_it_and_deletes_nothing(
    runner_for: Runners, slack_api: SlackApiStandIn, tmp_path: Path,
) -> None:
    # GIVEN a mention in a channel thread whose answer streams
    job = slack_job(channel="C0001", thread_ts=THREAD)
    engine = ScriptedEngine(turns=1, chart_dir=tmp_path, stream=True,
                            text="**42** users signed up in March, up from 30. " * 6)
    # WHEN it is answered
    outcome = runner_for(KillSwitch(), engine).run(message(job, 1))
    # THEN the answer is the stopped stream, the status is cleared after it, and no
    # placeholder was posted or deleted
    assert outcome.action is Action.DELETE
    (answer,) = marked(slack_api.thread("C0001", THREAD), job, "answer")
    assert not answer.streaming and answer.blocks
    calls = methods(slack_api)
    assert calls.index("chat.stopStream") < len(calls) - 1 - calls[::-1].index(SET_STATUS)
    assert slack_api.accepted(SET_STATUS)[-1].args["status"] == ""
    assert "chat.delete" not in calls and "chat.update" not in calls
