"""Replies in Slack's assistant threads (bot/slack/assistant.py), driven by the job runner:
a greeting with suggested prompts from the verified library; a question shown as a status
line that follows the agent's stages, then the answer posted (which clears the status); a
failure posted in place of the status; and a takeover after a kill at any step that
repeats neither the greeting nor the answer."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest

from bot.job import Job
from bot.job_store import DONE, JobStore
from executor.errors import UnsafeSQL
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
THREAD = "1795284200.000100"
SET_STATUS = "assistant.threads.setStatus"


def greeting(channel: str = "D0001", viewing: str | None = "C0REV") -> Job:
    return slack_job("", channel=channel, thread_ts=THREAD, surface="assistant",
                     kind="greeting", context={"channel_id": viewing} if viewing else None)


def question(text: str = "What was our total revenue?", channel: str = "D0001") -> Job:
    return slack_job(text, channel=channel, thread_ts=THREAD, surface="assistant")


def slack_methods(slack_api: SlackApiStandIn) -> list[str]:
    return [call.method for call in slack_api.calls]


def test_a_new_thread_is_greeted_with_prompts_related_to_the_viewed_channel(
    runner_for: Runners, slack_api: SlackApiStandIn, aws_stack: AwsStack,
) -> None:
    # GIVEN the person views #revenue-reports while opening a new assistant thread
    slack_api.set_channel("C0REV", "revenue-reports", topic="Monthly revenue by plan")
    engine = ScriptedEngine()
    job = greeting()
    # WHEN the greeting job runs
    outcome = runner_for(KillSwitch(), engine).run(message(job, 1))
    # THEN a short greeting is posted in the thread, and at most four suggested prompts
    # from the verified library, the channel's subject first; the model is never asked
    assert outcome.action is Action.DELETE
    assert engine.requests == []
    (hello,) = marked(slack_api.thread("D0001", THREAD), job, "greeting")
    assert "Ask me a question about your data" in hello.text
    (prompts_call,) = slack_api.accepted("assistant.threads.setSuggestedPrompts")
    prompts = prompts_call.args["prompts"]
    assert 0 < len(prompts) <= 4
    assert "revenue" in prompts[0]["message"].lower()
    assert all(p["title"] and p["message"].endswith("?") for p in prompts)
    record = JobStore(aws_stack.jobs_table, client=boto3.client("dynamodb")).get(job.job_id)
    assert record is not None and record.status == DONE


def test_without_a_readable_channel_the_greeting_offers_the_most_useful_prompts(
    runner_for: Runners, slack_api: SlackApiStandIn,
) -> None:
    # GIVEN a context naming a channel conversations.info cannot read
    runner_for(KillSwitch(), ScriptedEngine()).run(message(greeting(viewing="C0PRIVATE"), 1))
    # THEN the prompts are the library's general ones, one per subject
    (prompts_call,) = slack_api.accepted("assistant.threads.setSuggestedPrompts")
    messages = [p["message"] for p in prompts_call.args["prompts"]]
    assert messages[0] == "How many users signed up each month?"
    assert len(messages) == 4


def test_a_question_shows_the_stages_as_status_then_the_answer_clears_it(
    runner_for: Runners, slack_api: SlackApiStandIn, tmp_path: Path,
) -> None:
    # GIVEN an engine that goes through three stages
    engine = ScriptedEngine(turns=3, delay_s=0.05, chart_dir=tmp_path)
    job = question()
    # WHEN the question is answered
    outcome = runner_for(KillSwitch(), engine).run(message(job, 1))
    # THEN the thread is titled from the question, the status line follows the stages,
    # and the answer is posted after the last status (Slack clears the status on a reply);
    # no placeholder is posted or edited
    assert outcome.action is Action.DELETE
    (title,) = slack_api.accepted("assistant.threads.setTitle")
    assert title.args["title"] == "What was our total revenue?"
    statuses = slack_api.accepted(SET_STATUS)
    shown = [call.args["loading_messages"] for call in statuses]
    assert shown == [["Reading your question…"]] + [[f"{stage}…"] for stage in STAGES]
    methods = slack_methods(slack_api)
    last_status = len(methods) - 1 - methods[::-1].index(SET_STATUS)
    assert methods.index("chat.postMessage") > last_status
    assert "chat.update" not in methods
    (answer,) = marked(slack_api.thread("D0001", THREAD), job, "answer")
    assert ANSWER in json.dumps(answer.blocks)


def test_only_the_first_question_titles_the_thread(
    runner_for: Runners, slack_api: SlackApiStandIn, tmp_path: Path,
) -> None:
    runner = runner_for(KillSwitch(), ScriptedEngine(turns=0, chart_dir=tmp_path))

    runner.run(message(question("What was our total revenue?"), 1))
    runner.run(message(question("And by plan?"), 1))

    titles = [call.args["title"] for call in slack_api.accepted("assistant.threads.setTitle")]
    assert titles == ["What was our total revenue?"]


def test_a_failure_replaces_the_status_with_the_error(
    runner_for: Runners, slack_api: SlackApiStandIn, tmp_path: Path,
) -> None:
    # GIVEN an engine that fails for good after its stages
    engine = ScriptedEngine(turns=1, delay_s=0.05, chart_dir=tmp_path,
                            error=UnsafeSQL("only SELECT statements are allowed"))
    job = question()
    # WHEN the question is run
    outcome = runner_for(KillSwitch(), engine).run(message(job, 1))
    # THEN the error is posted in the thread after the last status, which it clears
    assert outcome.action is Action.DELETE
    methods = slack_methods(slack_api)
    assert methods[-1] == "chat.postMessage"
    assert SET_STATUS in methods
    (error,) = slack_api.thread("D0001", THREAD)
    assert "only SELECT statements are allowed" in json.dumps(error.blocks)
    assert job.job_id in json.dumps(error.blocks)


@pytest.mark.parametrize("kind", ["greeting", "answer"])
def test_a_worker_killed_after_any_step_repeats_neither_greeting_nor_answer(
    runner_for: Runners, slack_api: SlackApiStandIn, aws_stack: AwsStack,
    tmp_path: Path, kind: str,
) -> None:
    def job_in(channel: str) -> Job:
        return greeting(channel) if kind == "greeting" else question(channel=channel)

    # GIVEN the steps of one job, counted on a run that is not killed
    clean = KillSwitch()
    runner_for(clean, ScriptedEngine(turns=0, chart_dir=tmp_path)).run(
        message(job_in("DCLEAN"), 1))
    jobs = JobStore(aws_stack.jobs_table, client=boto3.client("dynamodb"))
    for kill_after, step in enumerate(clean.steps, start=1):
        channel = f"D{kill_after:04d}"
        job = job_in(channel)
        engine = ScriptedEngine(turns=0, chart_dir=tmp_path)
        # WHEN a worker is killed right after that step, and another takes the job over
        outcome = killed_then_taken_over(runner_for, job, engine, kill_after)
        # THEN the thread holds one greeting, or one answer with its chart (or a note)
        where = f"killed after step {kill_after} ({step})"
        assert outcome.action is Action.DELETE, where
        thread = slack_api.thread(channel, THREAD)
        if kind == "greeting":
            assert len(marked(thread, job, "greeting")) == 1, where
            assert engine.requests == [], where
        else:
            assert_one_answer_without_placeholder(thread, job, where)
        record = jobs.get(job.job_id)
        assert record is not None and record.status == DONE, where
