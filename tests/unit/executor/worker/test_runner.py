"""The job runner: one message to one answer, against moto's DynamoDB and S3 and the Slack
stand-in. Failures are classified by exception class; each test checks both what the
person sees in Slack and what JOBS_TABLE records."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from bot import delivery
from bot.asker import Asker
from bot.config import Env
from bot.delivery import ChannelsConfig, Viewing, open_channels
from bot.job import Job
from bot.job_store import DONE, FAILED, RUNNING, JobStore
from bot.slack.replier import web_client
from executor.artifacts import LocalArtifactStore
from executor.artifacts.keys import scratch_dir
from executor.config import DEFAULT_INPUT, EngineConfig, ModelConfig
from executor.conversations import ConversationStore
from executor.engine import Engine, Turn
from executor.errors import TransientError, UnsafeSQL
from executor.governance.budgets import Budgets, Limits, Policy
from executor.governance.spend import SqliteLedger
from executor.router import build_engine
from executor.verified import Library
from executor.verified.answerer import VerifiedEngine
from executor.verified.live import LiveLibrary
from executor.warehouse.cost import CostLimits
from executor.warehouse.duckdb import DuckDBWarehouse
from executor.worker.config import WorkerConfig
from executor.worker.metrics import WorkerMetrics
from executor.worker.runner import Action, JobRunner
from tests.support.aws import AwsStack
from tests.support.scripted_engine import ScriptedEngine
from tests.support.scripted_model import ScriptedModel
from tests.support.slack_api import SlackApiStandIn
from tests.support.verified import TODAY
from tests.support.worker import message, slack_channels, slack_job

CONFIG = WorkerConfig(progress_interval_s=0.0, backoff_base_s=10, unexpected_attempts=2)


@pytest.fixture(autouse=True)
def _placeholder_path(no_channel_status: SlackApiStandIn) -> None:
    """These tests follow a mention's placeholder; the status line that replaces it where
    Slack allows is tested in tests/unit/bot/slack/test_channel_thread.py."""


@pytest.fixture
def make_runner(
    aws_stack: AwsStack, slack_api: SlackApiStandIn, tmp_path: Path
) -> Callable[..., JobRunner]:
    def make(engine: Engine | None = None, **config: Any) -> JobRunner:
        dynamodb = boto3.client("dynamodb")
        return JobRunner(
            engine or ScriptedEngine(delay_s=0.05, chart_dir=tmp_path),
            JobStore(aws_stack.jobs_table, client=dynamodb),
            config=dataclasses.replace(CONFIG, **config),
            metrics=WorkerMetrics(None),
            channels=slack_channels(web_client(slack_api.token, slack_api.url, max_retries=2)),
            conversations=ConversationStore(aws_stack.conversations_table, client=dynamodb),
            artifacts=LocalArtifactStore(tmp_path / "results"),
        )

    return make


@pytest.fixture
def jobs(aws_stack: AwsStack) -> JobStore:
    return JobStore(aws_stack.jobs_table, client=boto3.client("dynamodb"))


class ThrottledMarkDone(JobStore):
    """Every write of a finished answer is throttled."""

    def __init__(self, table_name: str) -> None:
        super().__init__(table_name, client=boto3.client("dynamodb"))
        self.mark_done_calls = 0

    def mark_done(self, job_id: str, answer: dict[str, Any]) -> None:
        self.mark_done_calls += 1
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
            "UpdateItem",
        )


def api_job() -> Job:
    return Job.from_json(json.dumps({
        **json.loads(slack_job(source="api").to_json()),
        "reply_to": {"kind": "api"},
    }))


def final_blocks_text(slack_api: SlackApiStandIn) -> str:
    final = slack_api.calls_to("chat.update")[-1]
    return json.dumps(final.args["blocks"])


def test_a_job_gets_placeholder_progress_answer_and_chart_in_its_thread(
    make_runner: Callable[..., JobRunner], slack_api: SlackApiStandIn, jobs: JobStore
) -> None:
    # GIVEN a Slack job in a thread
    job = slack_job()
    # WHEN the runner takes its message
    outcome = make_runner().run(message(job.to_json()))
    # THEN one placeholder went into the thread, progress and the answer replaced it
    assert outcome.action is Action.DELETE
    posts = slack_api.calls_to("chat.postMessage")
    assert len(posts) == 1
    assert posts[0].args["thread_ts"] == job.reply_to.thread_ts
    assert "Working on it" in posts[0].args["text"]
    updates = slack_api.calls_to("chat.update")
    assert posts[0].response is not None
    assert {u.args["ts"] for u in updates} == {posts[0].response["ts"]}
    stages = [u.args["text"] for u in updates[:-1]]
    assert any("Reading the schema" in s for s in stages)
    assert "**42** users signed up" in final_blocks_text(slack_api)
    assert "SELECT date_trunc" in final_blocks_text(slack_api)
    # AND the chart was uploaded into the same thread with files_upload_v2
    complete = slack_api.calls_to("files.completeUploadExternal")
    assert len(complete) == 1
    assert complete[0].args["thread_ts"] == job.reply_to.thread_ts
    assert slack_api.calls_to("upload")[0].body.startswith(b"\x89PNG")
    # AND the job is recorded done with its answer
    record = jobs.get(job.job_id)
    assert record is not None and record.status == DONE
    assert record.answer is not None and record.answer["text"].startswith("**42**")


def test_follow_up_in_the_same_thread_gets_the_earlier_turn(
    make_runner: Callable[..., JobRunner], tmp_path: Path
) -> None:
    engine = ScriptedEngine(chart_dir=tmp_path)
    runner = make_runner(engine)
    first = slack_job("how many users signed up in March?")
    follow_up = slack_job("now split that by country", thread_ts=first.reply_to.thread_ts)
    runner.run(message(first.to_json()))
    runner.run(message(follow_up.to_json()))
    assert engine.requests[0].history == []
    (turn,) = engine.requests[1].history
    assert turn.question == first.text
    assert turn.sql and turn.sql[0].startswith("SELECT date_trunc")


def test_a_question_beside_a_channel_tells_the_engine_which_one_with_its_topic(
    make_runner: Callable[..., JobRunner], slack_api: SlackApiStandIn, tmp_path: Path
) -> None:
    # GIVEN two questions in an assistant thread beside #revenue-reports
    slack_api.set_channel("C0REV", "revenue-reports", topic="Monthly revenue by plan")
    engine = ScriptedEngine(chart_dir=tmp_path)
    runner = make_runner(engine)
    first = slack_job("what is the revenue?", channel="D0001", surface="assistant",
                      context={"channel_id": "C0REV", "team_id": "T0001"})
    follow_up = dataclasses.replace(first, job_id="EvFOLLOWUP", text="and by plan?")
    # WHEN both are answered
    runner.run(message(first.to_json()))
    runner.run(message(follow_up.to_json()))
    # THEN the engine hears the channel, its name and topic, and the follow-up keeps the
    # thread's conversation so far
    viewing = Viewing("C0REV", name="revenue-reports", topic="Monthly revenue by plan")
    assert [request.viewing for request in engine.requests] == [viewing, viewing]
    assert [turn.question for turn in engine.requests[1].history] == [first.text]


def test_a_question_without_a_context_names_no_channel_and_reads_none(
    make_runner: Callable[..., JobRunner], slack_api: SlackApiStandIn, tmp_path: Path
) -> None:
    engine = ScriptedEngine(chart_dir=tmp_path)

    make_runner(engine).run(message(slack_job().to_json()))

    assert engine.requests[0].viewing is None
    assert slack_api.calls_to("conversations.info") == []


def test_the_engine_hears_who_asked_and_where(
    make_runner: Callable[..., JobRunner], tmp_path: Path
) -> None:
    engine = ScriptedEngine(chart_dir=tmp_path)
    job = slack_job()

    make_runner(engine).run(message(job.to_json()))

    asker = engine.requests[0].asker
    assert asker == Asker("slack", job.user_id, job.reply_to.team_id, job.reply_to.channel)


def test_a_question_over_a_spend_limit_is_answered_in_its_thread_without_a_model_call(
    make_runner: Callable[..., JobRunner], slack_api: SlackApiStandIn, jobs: JobStore,
    offline_config: EngineConfig, verified_library: Library, duckdb_sample: DuckDBWarehouse,
    tmp_path: Path,
) -> None:
    # GIVEN the configured engine, where people may spend nothing on the model
    model = ScriptedModel([])
    engine = build_engine(
        dataclasses.replace(offline_config, model=ModelConfig(provider="bedrock")),
        warehouse=duckdb_sample, artifacts=LocalArtifactStore(tmp_path / "results"),
        bedrock_client=model, library=verified_library,
        budgets=Budgets(Policy(user=Limits(daily=0.0)), SqliteLedger(tmp_path / "usage.db"),
                        estimate_usd=0.01),
    )
    job = slack_job("revenue per user by country")
    # WHEN the runner takes a question that needs the model
    outcome = make_runner(engine).run(message(job.to_json()))
    # THEN the refusal is the answer in the thread, the job is done, the model untouched
    assert outcome.action is Action.DELETE
    assert "You have reached your daily budget" in final_blocks_text(slack_api)
    assert "It resets at 00:00 UTC." in final_blocks_text(slack_api)
    record = jobs.get(job.job_id)
    assert record is not None and record.status == DONE
    assert model.requests == []


def test_a_redelivered_answered_job_is_not_answered_again(
    make_runner: Callable[..., JobRunner], slack_api: SlackApiStandIn
) -> None:
    job = slack_job()
    runner = make_runner()
    runner.run(message(job.to_json(), receive_count=1))
    calls_after_first = len(slack_api.calls)
    outcome = runner.run(message(job.to_json(), receive_count=2))
    assert outcome.action is Action.DELETE
    assert len(slack_api.calls) == calls_after_first


def test_an_interrupted_job_restarts_on_its_placeholder(
    make_runner: Callable[..., JobRunner], slack_api: SlackApiStandIn, jobs: JobStore
) -> None:
    # GIVEN a job whose first delivery posted its placeholder, then died
    job = slack_job()
    jobs.claim(job, attempt=1)
    jobs.set_placeholder(job.job_id, job.reply_to.at("1730000000.999999"))
    # WHEN the message comes back
    outcome = make_runner().run(message(job.to_json(), receive_count=2))
    # THEN no second placeholder: the answer lands on the first one
    assert outcome.action is Action.DELETE
    assert slack_api.count("chat.postMessage") == 0
    assert {u.args["ts"] for u in slack_api.calls_to("chat.update")} == {"1730000000.999999"}


def test_a_later_delivery_holding_the_job_makes_an_older_one_leave_it(
    make_runner: Callable[..., JobRunner], slack_api: SlackApiStandIn, jobs: JobStore
) -> None:
    job = slack_job()
    jobs.claim(job, attempt=3)
    outcome = make_runner().run(message(job.to_json(), receive_count=2))
    assert outcome.action is Action.LEAVE
    assert slack_api.calls == []


def test_a_user_facing_error_is_answered_and_the_job_ends(
    make_runner: Callable[..., JobRunner], slack_api: SlackApiStandIn, jobs: JobStore,
    tmp_path: Path,
) -> None:
    engine = ScriptedEngine(error=UnsafeSQL("only SELECT statements may run"), chart_dir=tmp_path)
    job = slack_job()
    outcome = make_runner(engine).run(message(job.to_json()))
    assert outcome.action is Action.DELETE
    assert "only SELECT statements may run" in final_blocks_text(slack_api)
    record = jobs.get(job.job_id)
    assert record is not None and record.status == FAILED
    assert record.error == "only SELECT statements may run"


def test_a_verified_answer_over_the_cost_limit_is_told_in_its_thread(
    make_runner: Callable[..., JobRunner], slack_api: SlackApiStandIn, jobs: JobStore,
    verified_library: Library, tmp_path: Path,
) -> None:
    # GIVEN MAX_SCAN_ROWS below the users table (5,000 rows) and a question the library covers
    limited = DuckDBWarehouse(DEFAULT_INPUT, cost_limits=CostLimits(max_scan_rows=1000))
    engine = VerifiedEngine(LiveLibrary(verified_library), limited,
                            LocalArtifactStore(tmp_path / "results"), today=lambda: TODAY)
    job = slack_job("How many users are on each plan?")
    try:
        outcome = make_runner(engine).run(message(job.to_json()))
    finally:
        limited.close()
    # THEN the thread reads why, and the job ends without a retry
    assert outcome.action is Action.DELETE
    assert "an estimated 5,000 rows from one scan (MAX_SCAN_ROWS is 1,000)" in final_blocks_text(
        slack_api
    )
    record = jobs.get(job.job_id)
    assert record is not None and record.status == FAILED


def test_a_transient_error_backs_off_and_keeps_the_job_running(
    make_runner: Callable[..., JobRunner], slack_api: SlackApiStandIn, jobs: JobStore,
    tmp_path: Path,
) -> None:
    engine = ScriptedEngine(error=TransientError("Bedrock throttled"), chart_dir=tmp_path)
    job = slack_job()
    runner = make_runner(engine)
    first = runner.run(message(job.to_json(), receive_count=1))
    third = runner.run(message(job.to_json(), receive_count=3))
    assert (first.action, first.delay_s) == (Action.RETRY, 10)
    assert (third.action, third.delay_s) == (Action.RETRY, 40)
    record = jobs.get(job.job_id)
    assert record is not None and record.status == RUNNING
    assert "trying again shortly" in slack_api.calls_to("chat.update")[-1].args["text"]
    # the retry reused the first placeholder
    assert slack_api.count("chat.postMessage") == 1


def test_an_unexpected_error_is_retried_once_then_answered_with_a_reference(
    make_runner: Callable[..., JobRunner], slack_api: SlackApiStandIn, jobs: JobStore,
    tmp_path: Path,
) -> None:
    engine = ScriptedEngine(error=KeyError("columns"), chart_dir=tmp_path)
    job = slack_job()
    runner = make_runner(engine)
    assert runner.run(message(job.to_json(), receive_count=1)).action is Action.RETRY
    assert runner.run(message(job.to_json(), receive_count=2)).action is Action.DELETE
    assert f"Something went wrong while answering this (ref {job.job_id})" in (
        final_blocks_text(slack_api)
    )
    record = jobs.get(job.job_id)
    assert record is not None and record.status == FAILED


def test_a_message_that_is_not_json_is_dropped_without_a_reply(
    make_runner: Callable[..., JobRunner], slack_api: SlackApiStandIn
) -> None:
    outcome = make_runner().run(message("{not json"))
    assert outcome.action is Action.DELETE
    assert slack_api.calls == []


def test_a_poison_message_with_a_readable_thread_tells_the_person(
    make_runner: Callable[..., JobRunner], slack_api: SlackApiStandIn
) -> None:
    body = json.loads(slack_job().to_json())
    body["version"] = 99
    outcome = make_runner().run(message(json.dumps(body)))
    assert outcome.action is Action.DELETE
    (post,) = slack_api.calls_to("chat.postMessage")
    assert post.args["thread_ts"] == body["reply_to"]["thread_ts"]
    assert "could not read this request" in post.args["text"]


def test_a_slash_command_posts_the_question_and_threads_the_answer_under_it(
    make_runner: Callable[..., JobRunner], slack_api: SlackApiStandIn, jobs: JobStore
) -> None:
    job = slack_job("top 5 countries by revenue", thread_ts=None,
                    response_url=slack_api.response_url())
    make_runner().run(message(job.to_json()))
    question, placeholder = slack_api.calls_to("chat.postMessage")
    assert "<@U0001> asked: top 5 countries by revenue" in question.args["text"]
    assert question.args.get("thread_ts") is None
    assert question.response is not None
    assert placeholder.args["thread_ts"] == question.response["ts"]
    record = jobs.get(job.job_id)
    assert record is not None and record.placeholder is not None
    assert record.placeholder.thread_ts == placeholder.args["thread_ts"]
    assert slack_api.calls_to("files.completeUploadExternal")[0].args["thread_ts"] == (
        record.placeholder.thread_ts
    )


def test_not_in_channel_sends_a_slash_command_answer_through_response_url(
    make_runner: Callable[..., JobRunner], slack_api: SlackApiStandIn, jobs: JobStore
) -> None:
    slack_api.fail_next("chat.postMessage", error="not_in_channel")
    job = slack_job(thread_ts=None, response_url=slack_api.response_url("slash1"))
    outcome = make_runner().run(message(job.to_json()))
    assert outcome.action is Action.DELETE
    (hook,) = slack_api.calls_to("response_url")
    assert hook.path.endswith("/slash1")
    assert "**42** users signed up" in json.dumps(hook.args["blocks"])
    record = jobs.get(job.job_id)
    assert record is not None and record.status == DONE


def test_not_in_channel_without_response_url_ends_the_job_with_a_log_line(
    make_runner: Callable[..., JobRunner], slack_api: SlackApiStandIn, jobs: JobStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    slack_api.fail_next("chat.postMessage", error="is_archived")
    job = slack_job()
    outcome = make_runner().run(message(job.to_json()))
    assert outcome.action is Action.DELETE
    record = jobs.get(job.job_id)
    assert record is not None and record.status == FAILED
    assert slack_api.count("chat.postMessage") == 1


def test_slack_429_waits_for_retry_after_and_the_answer_still_lands(
    make_runner: Callable[..., JobRunner], slack_api: SlackApiStandIn, jobs: JobStore
) -> None:
    slack_api.fail_next("chat.postMessage", status=429, retry_after=1)
    job = slack_job()
    started = time.monotonic()
    outcome = make_runner().run(message(job.to_json()))
    assert outcome.action is Action.DELETE
    assert time.monotonic() - started >= 1.0
    assert slack_api.count("chat.postMessage") == 2  # the 429, then the accepted retry
    record = jobs.get(job.job_id)
    assert record is not None and record.status == DONE


def test_slack_failing_with_5xx_makes_the_job_transient(
    make_runner: Callable[..., JobRunner], slack_api: SlackApiStandIn, jobs: JobStore
) -> None:
    slack_api.fail_next("chat.postMessage", status=503, error="service_unavailable", times=5)
    job = slack_job()
    outcome = make_runner().run(message(job.to_json()))
    assert outcome.action is Action.RETRY
    record = jobs.get(job.job_id)
    assert record is not None and record.status == RUNNING


def test_an_api_job_is_answered_into_the_jobs_table_and_results(
    make_runner: Callable[..., JobRunner], slack_api: SlackApiStandIn, jobs: JobStore,
    tmp_path: Path,
) -> None:
    job = api_job()
    outcome = make_runner().run(message(job.to_json()))
    assert outcome.action is Action.DELETE
    assert slack_api.calls == []
    record = jobs.get(job.job_id)
    assert record is not None and record.status == DONE and record.answer is not None
    stored = Path(record.answer["artifacts"]["response.json"])
    assert json.loads(stored.read_text())["text"] == record.answer["text"]


def test_conversation_turn_is_stored_once_per_job(
    make_runner: Callable[..., JobRunner], aws_stack: AwsStack
) -> None:
    job = slack_job()
    runner = make_runner()
    runner.run(message(job.to_json()))
    store = ConversationStore(aws_stack.conversations_table, client=boto3.client("dynamodb"))
    store.append(job.conversation_id, Turn(job.text, [], "again"), job_id=job.job_id)
    assert len(store.history(job.conversation_id)) == 1


def test_an_answer_far_over_slack_limits_is_accepted_by_slack(
    make_runner: Callable[..., JobRunner], slack_api: SlackApiStandIn, tmp_path: Path
) -> None:
    # GIVEN an answer of 150,000 characters (the stand-in rejects what Slack would)
    text = "\n\n".join(f"Finding {n}: " + "detail " * 150 for n in range(140))
    engine = ScriptedEngine(text=text, chart_dir=tmp_path)
    # WHEN the runner delivers it
    outcome = make_runner(engine).run(message(slack_job().to_json()))
    # THEN Slack accepted every message, and the full text went up as a file
    assert outcome.action is Action.DELETE
    for method in ("chat.postMessage", "chat.update", "files.completeUploadExternal"):
        assert all(c.response and c.response["ok"] for c in slack_api.calls_to(method)), method
    uploaded = b"".join(c.body for c in slack_api.calls_to("upload"))
    assert text.encode() in uploaded


def test_a_delivered_answer_is_kept_when_recording_it_keeps_failing(
    make_runner: Callable[..., JobRunner], slack_api: SlackApiStandIn, aws_stack: AwsStack,
    jobs: JobStore, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a jobs table that throttles every write of a finished answer
    monkeypatch.setattr(delivery, "MARK_DONE_PAUSE_S", 0.0)
    runner = make_runner()
    runner.jobs = throttled = ThrottledMarkDone(aws_stack.jobs_table)
    job = slack_job()
    # WHEN the answer has been delivered
    outcome = runner.run(message(job.to_json()))
    # THEN the write was retried in place, the message is deleted (no redelivery to post the
    # answer again), and the answer stays on the placeholder, not overwritten by a retry
    assert outcome.action is Action.DELETE
    assert throttled.mark_done_calls == delivery.MARK_DONE_ATTEMPTS
    assert "**42** users signed up" in final_blocks_text(slack_api)
    assert slack_api.count("chat.postMessage") == 1
    record = jobs.get(job.job_id)
    assert record is not None and record.status == RUNNING


def test_a_job_from_a_platform_without_a_channel_is_answered_into_the_jobs_table(
    make_runner: Callable[..., JobRunner], slack_api: SlackApiStandIn, jobs: JobStore
) -> None:
    # GIVEN a Teams job, which no channel serves yet
    job = Job.from_json(json.dumps({
        **json.loads(slack_job(source="teams").to_json()),
        "reply_to": {"kind": "teams", "service_url": "https://smba.example/amer/",
                     "conversation_id": "19:abc@thread.tacv2", "activity_id": "1",
                     "tenant_id": "tenant-1", "conversation_type": "channel"},
    }))
    # WHEN the runner takes it
    outcome = make_runner().run(message(job.to_json()))
    # THEN its answer is kept in JOBS_TABLE and nothing goes to Slack
    assert outcome.action is Action.DELETE
    assert slack_api.calls == []
    record = jobs.get(job.job_id)
    assert record is not None and record.status == DONE and record.answer is not None


def test_an_api_job_whose_answer_cannot_be_recorded_is_retried(
    make_runner: Callable[..., JobRunner], aws_stack: AwsStack
) -> None:
    runner = make_runner()
    runner.jobs = ThrottledMarkDone(aws_stack.jobs_table)
    outcome = runner.run(message(api_job().to_json()))
    assert outcome.action is Action.RETRY


def test_a_slack_job_without_a_slack_token_fails_at_once(
    make_runner: Callable[..., JobRunner], jobs: JobStore, slack_api: SlackApiStandIn
) -> None:
    # GIVEN a worker with no Slack token (an API-only deployment)
    runner = make_runner()
    runner.channels = open_channels(ChannelsConfig.from_env(Env({"SLACK_API_URL": slack_api.url})))
    job = slack_job()
    # WHEN a Slack job reaches it THEN it is not retried: no delivery would have a token
    outcome = runner.run(message(job.to_json(), receive_count=1))
    assert outcome.action is Action.DELETE
    record = jobs.get(job.job_id)
    assert record is not None and record.status == FAILED
    assert record.error is not None and "no Slack token" in record.error


def test_the_job_s_scratch_files_are_removed_once_it_is_answered(
    make_runner: Callable[..., JobRunner], slack_api: SlackApiStandIn
) -> None:
    # GIVEN an engine that draws its chart in the job's scratch folder, as the tools do
    job = slack_job()
    folder = scratch_dir(job.job_id)
    folder.mkdir(parents=True, exist_ok=True)
    # WHEN the job is answered
    outcome = make_runner(ScriptedEngine(chart_dir=folder)).run(message(job.to_json()))
    # THEN the chart was uploaded, then its folder removed
    assert outcome.action is Action.DELETE
    assert slack_api.calls_to("upload")[0].body.startswith(b"\x89PNG")
    assert not folder.exists()
