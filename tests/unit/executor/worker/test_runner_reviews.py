"""Review jobs through the runner, against moto's DynamoDB, the Slack stand-in, the sample
data and an agent stand-in: a reviewer verifies an agent answer in its thread, and the
same question is answered from the verified entry with no model call; refusals and
retirements are told in the thread."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import boto3
import pytest

from bot.answer import Answer
from bot.job import RETIRE, VERIFY, Job
from bot.job_store import DONE, FAILED, JobStore
from bot.review import Review
from bot.slack.replier import web_client
from executor.artifacts import LocalArtifactStore
from executor.router import RoutedEngine
from executor.verified.answerer import VerifiedEngine
from executor.verified.library import Library
from executor.warehouse.duckdb import DuckDBWarehouse
from executor.worker.config import WorkerConfig
from executor.worker.metrics import WorkerMetrics
from executor.worker.runner import Action, JobRunner
from tests.support.audit import MemoryAuditStore, memory_trail
from tests.support.aws import AwsStack
from tests.support.review import PARAPHRASE, QUESTION, REVIEWER, AgentStandIn, Desk, review_desk
from tests.support.slack_api import SlackApiStandIn
from tests.support.verified import TODAY
from tests.support.worker import message, slack_channels, slack_job

CONFIG = WorkerConfig(progress_interval_s=0.0)


def review_job(kind: str, review: Review) -> Job:
    return dataclasses.replace(slack_job("", kind=kind), review=review)


@dataclasses.dataclass
class Worker:
    runner: JobRunner
    agent: AgentStandIn
    desk: Desk
    jobs: JobStore

    def answer(self, question: str) -> Answer:
        job = slack_job(question)
        assert self.runner.run(message(job)).action is Action.DELETE
        record = self.jobs.get(job.job_id)
        assert record is not None and record.answer is not None
        return Answer.from_dict(record.answer)


@pytest.fixture
def worker(
    aws_stack: AwsStack, slack_api: SlackApiStandIn, verified_library: Library,
    duckdb_sample: DuckDBWarehouse, tmp_path: Path,
) -> Worker:
    desk = review_desk(verified_library, tmp_path)
    agent = AgentStandIn()
    engine = RoutedEngine(
        VerifiedEngine(desk.live, duckdb_sample, LocalArtifactStore(tmp_path / "results"),
                       today=lambda: TODAY),
        lambda: agent,
    )
    jobs = JobStore(aws_stack.jobs_table, client=boto3.client("dynamodb"))
    runner = JobRunner(
        engine, jobs, config=CONFIG, metrics=WorkerMetrics(None),
        channels=slack_channels(web_client(slack_api.token, slack_api.url, max_retries=2)),
        reviews=desk.desk,
    )
    return Worker(runner, agent, desk, jobs)


def posted(slack_api: SlackApiStandIn) -> list[str]:
    return [call.args["text"] for call in slack_api.calls_to("chat.postMessage")]


def test_a_verified_answer_answers_the_question_from_then_on_without_the_model(
    worker: Worker, slack_api: SlackApiStandIn
) -> None:
    # GIVEN an agent answer, which carries the entry a reviewer would verify
    first = worker.answer(QUESTION)
    assert not first.verified and len(worker.agent.requests) == 1
    assert first.proposal is not None and ":country" in first.proposal.sql
    # WHEN a reviewer verifies it with the defaults
    job = review_job(VERIFY, Review("EvAGENT", REVIEWER, proposal=first.proposal))
    slack_api.reset()
    assert worker.runner.run(message(job)).action is Action.DELETE
    # THEN the thread says so, naming the reviewer, and the job is done
    assert posted(slack_api) == [
        f"Verified by <@{REVIEWER}>: questions like this are now answered from this query."]
    assert slack_api.calls_to("chat.postMessage")[0].args["thread_ts"] == job.reply_to.thread_ts
    record = worker.jobs.get(job.job_id)
    assert record is not None and record.status == DONE
    # AND the entry is stored
    assert worker.desk.store.get(first.proposal.name) is not None
    # AND the question and a paraphrase are answered from it, with no model call
    for question in (QUESTION, "How many purchases were made on iPads in Germany this year?"):
        again = worker.answer(question)
        assert again.verified and again.entry_id == first.proposal.name
        assert again.text.startswith("Purchases: **") and "for device tablet" in again.text
    assert len(worker.agent.requests) == 1
    # AND a redelivery of the verify job posts nothing again
    slack_api.reset()
    assert worker.runner.run(message(job, receive_count=2)).action is Action.DELETE
    assert posted(slack_api) == []


def test_a_paraphrase_the_reviewer_added_is_answered_too(
    worker: Worker, slack_api: SlackApiStandIn
) -> None:
    first = worker.answer(QUESTION)
    assert first.proposal is not None
    proposal = dataclasses.replace(first.proposal, paraphrases=(PARAPHRASE,))
    worker.runner.run(message(review_job(VERIFY, Review("EvAGENT", REVIEWER, proposal=proposal))))
    assert worker.answer(PARAPHRASE).verified
    assert len(worker.agent.requests) == 1


def test_a_refusal_is_told_in_the_thread_with_its_reason(
    worker: Worker, slack_api: SlackApiStandIn
) -> None:
    # GIVEN a proposal whose SQL reads a system table
    first = worker.answer(QUESTION)
    assert first.proposal is not None
    unsafe = dataclasses.replace(first.proposal, sql="SELECT usename FROM pg_catalog.pg_user")
    unsafe = dataclasses.replace(unsafe, params=())
    job = review_job(VERIFY, Review("EvAGENT", REVIEWER, proposal=unsafe))
    slack_api.reset()
    # WHEN it is verified
    assert worker.runner.run(message(job)).action is Action.DELETE
    # THEN the thread reads why, the job is recorded failed, and nothing is stored
    text = posted(slack_api)[0]
    assert "Not verified: the SQL is not safe to run" in text
    assert job.reply_to.thread_ts == slack_api.calls_to(
        "chat.postMessage")[0].args["thread_ts"]
    record = worker.jobs.get(job.job_id)
    assert record is not None and record.status == FAILED
    assert worker.desk.store.entries() == []


def test_a_retired_entry_no_longer_answers(worker: Worker, slack_api: SlackApiStandIn) -> None:
    # GIVEN a verified entry
    first = worker.answer(QUESTION)
    assert first.proposal is not None
    worker.runner.run(message(review_job(VERIFY, Review("EvA", REVIEWER,
                                                        proposal=first.proposal))))
    assert worker.answer(QUESTION).verified
    # WHEN a reviewer retires it
    slack_api.reset()
    job = review_job(RETIRE, Review("EvB", REVIEWER, entry_id=first.proposal.name))
    assert worker.runner.run(message(job)).action is Action.DELETE
    # THEN the thread says so and the question goes to the model again
    assert posted(slack_api) == [f"Retired by <@{REVIEWER}>: `{first.proposal.name}` no longer "
                                 "answers questions; they go to the model again."]
    assert not worker.answer(QUESTION).verified
    assert len(worker.agent.requests) == 2


def test_a_worker_without_a_review_desk_refuses_review_jobs(
    worker: Worker, slack_api: SlackApiStandIn
) -> None:
    worker.runner.reviews = None
    job = review_job(RETIRE, Review("EvB", REVIEWER, entry_id="signups_count"))
    worker.runner.run(message(job))
    assert "does not take reviews" in posted(slack_api)[0]



def test_a_verify_job_s_statements_are_recorded_as_its_reviewer_s(
    worker: Worker, slack_api: SlackApiStandIn
) -> None:
    # GIVEN the desk records its statements in an audit trail
    store = MemoryAuditStore()
    worker.runner.reviews = dataclasses.replace(worker.desk.desk, audit=memory_trail(store))
    first = worker.answer(QUESTION)
    assert first.proposal is not None
    # WHEN a reviewer's verify job runs
    job = dataclasses.replace(review_job(VERIFY, Review("EvAGENT", REVIEWER,
                                                        proposal=first.proposal)),
                              user_id=REVIEWER)
    assert worker.runner.run(message(job)).action is Action.DELETE
    # THEN its statements carry the job and the reviewer, where the review was asked
    assert store.records
    assert {(r["job_id"], r["platform"], r["user"], r["workspace"], r["channel"])
            for r in store.records} == {(job.job_id, "slack", REVIEWER, "T0001", "C0001")}
