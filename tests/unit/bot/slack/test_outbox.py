"""Delivery guarantees of the Slack outbox, driven by the job runner (docs/worker.md,
"Delivery guarantees"): once the answer is out, later failures are a partial delivery; a
worker killed after any step of a job (tests/support/takeover.py) leaves, after a
takeover, one placeholder and one answer in the thread."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from bot.job import RETIRE, Job
from bot.job_store import DONE, JobStore
from bot.review import Review
from executor.verified.library import Library
from executor.verified.review import ReviewDesk
from executor.worker.runner import Action, JobRunner
from tests.support.aws import AwsStack
from tests.support.review import review_desk
from tests.support.scripted_engine import ScriptedEngine
from tests.support.slack_api import SlackApiStandIn
from tests.support.takeover import (
    ANSWER,
    Killed,
    KillSwitch,
    killed_then_taken_over,
    marked,
    message,
)
from tests.support.worker import slack_job


@pytest.fixture(autouse=True)
def _placeholder_path(no_channel_status: SlackApiStandIn) -> None:
    """These tests follow a mention's placeholder; the status line that replaces it where
    Slack allows is tested in tests/unit/bot/slack/test_channel_thread.py."""


def test_a_chart_that_cannot_be_attached_is_a_partial_delivery_not_a_retry(
    runner_for: Callable[[KillSwitch, ScriptedEngine], JobRunner], slack_api: SlackApiStandIn,
    aws_stack: AwsStack, tmp_path: Path,
) -> None:
    # GIVEN Slack failing every attempt to attach the chart after the answer is out
    slack_api.fail_next("files.completeUploadExternal", status=503, error="fatal_error",
                        times=10)
    engine = ScriptedEngine(turns=0, chart_dir=tmp_path)
    runner = runner_for(KillSwitch(), engine)
    job = slack_job()
    # WHEN the runner delivers the job
    outcome = runner.run(message(job, 1))
    # THEN the job ends (no retry, the engine ran once), the answer stays on the placeholder
    assert outcome.action is Action.DELETE
    assert len(engine.requests) == 1
    thread = slack_api.thread("C0001", str(job.reply_to.thread_ts))
    (answer,) = marked(thread, job, "answer")
    assert ANSWER in json.dumps(answer.blocks)
    assert slack_api.count("chat.postMessage") == 2
    # AND a short note in the thread names the missing chart and the job's reference
    (note,) = marked(thread, job, "note")
    assert "could not be delivered" in note.text and "chart-" in note.text
    assert job.job_id in json.dumps(note.blocks)
    # AND it is counted, and the job is recorded done with its answer
    assert runner.metrics.counts["PartialDeliveries"] == 1
    record = JobStore(aws_stack.jobs_table, client=boto3.client("dynamodb")).get(job.job_id)
    assert record is not None and record.status == DONE and record.answer is not None


@pytest.mark.parametrize("thread_ts", ["1730000000.000100", None], ids=["thread", "slash"])
def test_a_worker_killed_after_any_step_leaves_one_placeholder_and_one_answer(
    runner_for: Callable[[KillSwitch, ScriptedEngine], JobRunner], slack_api: SlackApiStandIn,
    aws_stack: AwsStack, tmp_path: Path, thread_ts: str | None,
) -> None:
    # GIVEN the steps of one job, counted on a run that is not killed
    clean = KillSwitch()
    runner_for(clean, ScriptedEngine(turns=0, chart_dir=tmp_path)).run(
        message(slack_job(thread_ts=thread_ts, channel="CCLEAN"), 1))
    assert "files.completeUploadExternal" in clean.steps
    # The answer replacing the placeholder (no progress edits with no engine turns).
    commit = clean.steps.index("chat.update") + 1
    jobs = JobStore(aws_stack.jobs_table, client=boto3.client("dynamodb"))
    for kill_after, step in enumerate(clean.steps, start=1):
        channel = f"C{kill_after:04d}"
        job = slack_job(thread_ts=thread_ts, channel=channel)
        engine = ScriptedEngine(turns=0, chart_dir=tmp_path)
        # WHEN a worker is killed right after that step, and another takes the job over
        outcome = killed_then_taken_over(runner_for, job, engine, kill_after)
        # THEN the person sees one question (slash command), one placeholder, which now
        # holds the answer, the chart once (or a note saying it is missing), nothing twice
        where = f"killed after step {kill_after} ({step})"
        assert outcome.action is Action.DELETE, where
        asked = [m for m in slack_api.messages.values()
                 if m.channel == channel and m.thread_ts is None]
        assert len(asked) == (1 if thread_ts is None else 0), where
        parent = thread_ts or asked[0].ts
        thread = slack_api.thread(channel, parent)
        placeholders = [c for c in slack_api.accepted("chat.postMessage")
                        if c.args["channel"] == channel and "Working on it" in c.args["text"]]
        assert len(placeholders) == 1, where
        (answer,) = marked(thread, job, "answer")
        assert ANSWER in json.dumps(answer.blocks), where
        assert answer.ts == str((placeholders[0].response or {})["ts"]), where
        charts = [m for m in thread if m.files]
        notes = marked(thread, job, "note")
        assert (len(charts), len(notes)) in ((1, 0), (0, 1)), where
        if kill_after >= commit:
            # The answer was out before the kill: it was not computed again.
            assert len(engine.requests) == 1, where
        record = jobs.get(job.job_id)
        assert record is not None and record.status == DONE, where


def test_the_partial_delivery_note_survives_a_passing_slack_failure(
    runner_for: Callable[[KillSwitch, ScriptedEngine], JobRunner], slack_api: SlackApiStandIn,
    tmp_path: Path,
) -> None:
    # GIVEN the chart cannot be attached, and Slack's first two answers to the note are
    # ok:false internal_error (which the client's own retries do not cover)
    slack_api.fail_next("files.completeUploadExternal", status=503, error="fatal_error",
                        times=10)

    class FailingNoteSlack(ScriptedEngine):
        def answer(self, request: Any) -> Any:
            slack_api.fail_next("chat.postMessage", error="internal_error", times=2)
            return super().answer(request)

    job = slack_job()
    # WHEN the job is delivered
    outcome = runner_for(KillSwitch(), FailingNoteSlack(turns=0, chart_dir=tmp_path)).run(
        message(job, 1))
    # THEN the note still reaches the thread, once
    assert outcome.action is Action.DELETE
    thread = slack_api.thread("C0001", str(job.reply_to.thread_ts))
    (note,) = marked(thread, job, "note")
    assert "could not be delivered" in note.text


def test_a_review_notice_killed_after_any_step_is_in_the_thread_once(
    runner_for: Callable[[KillSwitch, ScriptedEngine], JobRunner], slack_api: SlackApiStandIn,
    aws_stack: AwsStack, tmp_path: Path, verified_library: Library,
) -> None:
    # GIVEN the steps of a retire job (claim, the notice, the record), counted on a clean run
    def retire_job(channel: str) -> Job:
        job = slack_job("", kind=RETIRE, channel=channel)
        return dataclasses.replace(job, review=Review("EvA", "U0REVIEW", entry_id="signups_count"))

    def runner(switch: KillSwitch, engine: ScriptedEngine, path: Path) -> JobRunner:
        built = runner_for(switch, engine)
        built.reviews = desks.setdefault(path, review_desk(verified_library, path).desk)
        return built

    desks: dict[Path, ReviewDesk] = {}
    clean = KillSwitch()
    runner(clean, ScriptedEngine(), tmp_path / "clean").run(message(retire_job("CCLEAN"), 1))
    assert "chat.postMessage" in clean.steps
    jobs = JobStore(aws_stack.jobs_table, client=boto3.client("dynamodb"))
    for kill_after in range(1, len(clean.steps) + 1):
        job, path = retire_job(f"C{kill_after:04d}"), tmp_path / str(kill_after)
        # WHEN a worker is killed right after that step, and another takes the job over
        with pytest.raises(Killed):
            runner(KillSwitch(kill_after), ScriptedEngine(), path).run(message(job, 1))
        runner(KillSwitch(), ScriptedEngine(), path).run(message(job, 2))
        # THEN the thread holds the notice once, and the job is done
        thread = slack_api.thread(f"C{kill_after:04d}", str(job.reply_to.thread_ts))
        (notice,) = marked(thread, job, "answer")
        assert notice.text.startswith("Retired by <@U0REVIEW>: `signups_count`")
        record = jobs.get(job.job_id)
        assert record is not None and record.status == DONE, clean.steps[kill_after - 1]


def test_the_askers_email_is_read_from_their_profile_only_when_asked(
    runner_for: Callable[[KillSwitch, ScriptedEngine], JobRunner], slack_api: SlackApiStandIn,
    tmp_path: Path,
) -> None:
    # GIVEN a person whose Slack profile has an email
    slack_api.set_user("U0001", "ana.lopez@example.com")
    engine = ScriptedEngine(turns=0, chart_dir=tmp_path)
    # WHEN the runner answers their question
    runner_for(KillSwitch(), engine).run(message(slack_job(), 1))
    # THEN the engine may read the email: one users.info, and only when it asks
    assert slack_api.count("users.info") == 0
    [request] = engine.requests
    assert request.email() == "ana.lopez@example.com"
    assert [call.args["user"] for call in slack_api.calls_to("users.info")] == ["U0001"]
    # AND a profile that cannot be read gives no email
    slack_api.reset()
    assert request.email() is None
