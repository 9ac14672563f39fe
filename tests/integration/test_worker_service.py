"""The worker service against moto's server and the Slack stand-in: concurrency, heartbeat,
crash and SIGTERM redelivery (worker subprocesses), health, the road to the DLQ, and a
load test with SIGKILLs and injected Slack and DynamoDB faults."""

from __future__ import annotations

import dataclasses
import json
import random
import signal
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest

from bot.config import Env
from bot.job import Job
from bot.job_store import DONE, FAILED, JobStore
from executor.errors import TransientError
from executor.worker.app import build_worker
from executor.worker.config import WorkerConfig, WorkerSettings
from executor.worker.service import Worker
from handlers import dlq_notifier
from tests.support.audit import bucket_records
from tests.support.aws import AwsStack
from tests.support.events import LambdaContext
from tests.support.fault_proxy import fault_proxy
from tests.support.local_aws import create_stack
from tests.support.scripted_engine import WARM_MODULES, ScriptedEngine
from tests.support.slack_api import SlackApiStandIn
from tests.support.worker import HELD_ENGINE, WorkerProcess, slack_job, wait_for

pytestmark = pytest.mark.integration

FAST = WorkerConfig(concurrency=8, wait_time_s=1, visibility_s=3, heartbeat_s=1.0, grace_s=10,
                    progress_interval_s=0.2, backoff_base_s=1)


@pytest.fixture(autouse=True)
def _placeholder_path(no_channel_status: SlackApiStandIn) -> None:
    """These tests follow a mention's placeholder; the status line that replaces it where
    Slack allows is tested in tests/unit/bot/slack/test_channel_thread.py."""


def send(aws_stack: AwsStack, *jobs: Job) -> None:
    sqs = aws_stack.client("sqs")
    for job in jobs:
        sqs.send_message(QueueUrl=aws_stack.queue_url, MessageBody=job.to_json())


def answers(slack_api: SlackApiStandIn) -> list[str]:
    """Final answers Slack accepted: updates carrying the answer's text."""
    return [c.args["ts"] for c in slack_api.accepted("chat.update")
            if "users signed up" in json.dumps(c.args.get("blocks"))]


@pytest.fixture
def in_process_worker(
    aws_stack: AwsStack, slack_api: SlackApiStandIn, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[Callable[..., Worker]]:
    """Run Worker.run() in a thread, assembled from the environment as `databot worker` is."""
    monkeypatch.setenv("SLACK_API_URL", slack_api.url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", slack_api.token)
    running: list[tuple[Worker, threading.Thread]] = []

    def start(engine: ScriptedEngine, config: WorkerConfig = FAST) -> Worker:
        settings = dataclasses.replace(WorkerSettings.from_env(Env()), worker=config)
        worker = build_worker(settings, engine)
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        running.append((worker, thread))
        return worker

    yield start
    for worker, thread in running:
        worker.stop()
        thread.join(timeout=30)


def test_jobs_run_concurrently_and_every_message_is_deleted(
    in_process_worker: Callable[..., Worker], aws_stack: AwsStack, slack_api: SlackApiStandIn,
    tmp_path: Path,
) -> None:
    # GIVEN 8 jobs of 3 model turns × 0.4 s each (1.2 s apiece, 9.6 s one after another)
    jobs = [slack_job(thread_ts=f"1730000000.{n:06d}") for n in range(8)]
    send(aws_stack, *jobs)
    started = time.monotonic()
    # WHEN one worker with concurrency 8 takes them
    in_process_worker(ScriptedEngine(delay_s=0.4, chart_dir=tmp_path))
    wait_for(lambda: len(answers(slack_api)) == 8, 20, "8 answers")
    elapsed = time.monotonic() - started
    # THEN they ran side by side, each answered once in its own thread, the queue is empty
    assert elapsed < 6, f"8 concurrent jobs took {elapsed:.1f} s"
    placeholders = slack_api.accepted("chat.postMessage")
    assert sorted(p.args["thread_ts"] for p in placeholders) == sorted(
        str(j.reply_to.thread_ts) for j in jobs)
    wait_for(lambda: slack_api.count("files.completeUploadExternal") == 8, 10, "8 charts")
    wait_for(lambda: aws_stack.queue_depth() == (0, 0), 10, "an empty queue")


def test_the_heartbeat_keeps_a_long_job_from_being_redelivered(
    in_process_worker: Callable[..., Worker], aws_stack: AwsStack, slack_api: SlackApiStandIn,
    tmp_path: Path,
) -> None:
    # GIVEN a queue whose visibility timeout (2 s) is far shorter than the job (4.5 s)
    job = slack_job()
    send(aws_stack, job)
    # WHEN a worker runs it (a second worker polls the same queue all along)
    engine = ScriptedEngine(delay_s=1.5, chart_dir=tmp_path)
    in_process_worker(engine)
    in_process_worker(engine)
    wait_for(lambda: answers(slack_api), 20, "the answer")
    # (once its message is deleted nothing can deliver it again)
    wait_for(lambda: aws_stack.queue_depth() == (0, 0), 10, "the message deleted")
    # THEN it was delivered and answered once
    assert len(engine.requests) == 1
    assert slack_api.count("chat.postMessage") == 1
    assert len(answers(slack_api)) == 1
    record = JobStore(aws_stack.jobs_table, client=boto3.client("dynamodb")).get(job.job_id)
    assert record is not None and record.status == DONE and record.attempt == 1


def test_a_killed_worker_s_job_is_taken_over_with_one_placeholder_and_one_answer(
    worker_process: Callable[..., WorkerProcess], aws_stack: AwsStack,
    slack_api: SlackApiStandIn,
) -> None:
    # GIVEN a worker process in the middle of a 6 s job (its placeholder is up)
    job = slack_job()
    send(aws_stack, job)
    first = worker_process(TEST_ENGINE_DELAY_S="2")
    wait_for(lambda: slack_api.count("chat.postMessage") == 1, 30, "the placeholder")
    # WHEN it is killed outright and another worker starts
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=10)
    worker_process(TEST_ENGINE_DELAY_S="0.2")
    # THEN after the visibility timeout the job is answered once, on the same placeholder
    wait_for(lambda: answers(slack_api), 40, "the answer from the second worker")
    wait_for(lambda: aws_stack.queue_depth() == (0, 0), 10, "an empty queue")
    placeholder = slack_api.accepted("chat.postMessage")
    assert len(placeholder) == 1
    assert placeholder[0].response is not None
    assert answers(slack_api) == [placeholder[0].response["ts"]]
    assert len(slack_api.accepted("files.completeUploadExternal")) == 1
    record = JobStore(aws_stack.jobs_table, client=boto3.client("dynamodb")).get(job.job_id)
    assert record is not None and record.status == DONE and record.attempt == 2


def test_sigterm_lets_the_running_job_finish_then_exits(
    worker_process: Callable[..., WorkerProcess], aws_stack: AwsStack,
    slack_api: SlackApiStandIn,
) -> None:
    send(aws_stack, slack_job())
    worker = worker_process(TEST_ENGINE_DELAY_S="0.7")
    wait_for(lambda: slack_api.count("chat.postMessage") == 1, 30, "the placeholder")
    worker.process.send_signal(signal.SIGTERM)
    assert worker.process.wait(timeout=30) == 0
    assert len(answers(slack_api)) == 1
    assert aws_stack.queue_depth() == (0, 0)


def test_sigterm_past_the_grace_period_releases_the_job_to_another_worker(
    worker_process: Callable[..., WorkerProcess], aws_stack: AwsStack,
    slack_api: SlackApiStandIn,
) -> None:
    # GIVEN a worker with a 1 s grace period, 1 s into a 9 s job
    job = slack_job()
    send(aws_stack, job)
    first = worker_process(TEST_ENGINE_DELAY_S="3", WORKER_GRACE_S="1",
                           WORKER_VISIBILITY_S="30", WORKER_HEARTBEAT_S="1")
    wait_for(lambda: slack_api.count("chat.postMessage") == 1, 30, "the placeholder")
    # WHEN it is told to stop
    stopped_at = time.monotonic()
    first.process.send_signal(signal.SIGTERM)
    assert first.process.wait(timeout=20) == 0
    # THEN it left within the grace period and handed the job back at once (not after
    # its 30 s visibility), so a second worker answers it on the same placeholder
    assert time.monotonic() - stopped_at < 8
    assert "released 1 running jobs" in first.log()
    worker_process(TEST_ENGINE_DELAY_S="0.2")
    wait_for(lambda: answers(slack_api), 20, "the answer from the second worker")
    assert slack_api.count("chat.postMessage") == 1
    wait_for(lambda: aws_stack.queue_depth() == (0, 0), 10, "an empty queue")


def test_health_answers_while_the_worker_polls(
    worker_process: Callable[..., WorkerProcess],
) -> None:
    worker = worker_process()

    def healthy() -> bool:
        try:
            url = f"http://127.0.0.1:{worker.health_port}/health"
            with urllib.request.urlopen(url, timeout=2) as response:
                return bool(response.status == 200 and json.load(response)["healthy"])
        except (urllib.error.URLError, ConnectionError):
            return False

    wait_for(healthy, 30, "GET /health to answer 200")
    worker.process.send_signal(signal.SIGTERM)
    assert worker.process.wait(timeout=30) == 0


def test_health_is_unhealthy_until_the_worker_is_warm(
    worker_process: Callable[..., WorkerProcess], tmp_path: Path,
) -> None:
    # GIVEN a worker whose engine factory holds its start until told
    probe, release = tmp_path / "probe.json", tmp_path / "release"
    worker = worker_process(HELD_ENGINE, TEST_ENGINE_PROBE=str(probe),
                            TEST_ENGINE_RELEASE=str(release))
    wait_for(probe.exists, 30, "the engine factory to be called")
    # WHEN it is still building its engine THEN /health answers 503, saying it is starting
    assert health(worker) == (503, {"healthy": False, "starting": True})
    # AND the heavy modules were loaded before the engine and before any job
    assert json.loads(probe.read_text()) == dict.fromkeys(WARM_MODULES, True)
    # WHEN the engine is built THEN /health turns healthy
    release.touch()
    wait_for(lambda: health(worker)[0] == 200, 30, "GET /health to answer 200")
    worker.process.send_signal(signal.SIGTERM)
    assert worker.process.wait(timeout=30) == 0


def health(worker: WorkerProcess) -> tuple[int, dict[str, object]]:
    url = f"http://127.0.0.1:{worker.health_port}/health"
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def test_a_job_failing_passingly_every_time_ends_in_the_dlq_and_the_person_is_told(
    in_process_worker: Callable[..., Worker], aws_stack: AwsStack, slack_api: SlackApiStandIn,
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    # GIVEN a job whose model is throttled on every delivery (maxReceiveCount 3)
    job = slack_job()
    send(aws_stack, job)
    engine = ScriptedEngine(turns=1, error=TransientError("throttled"), chart_dir=tmp_path)
    config = dataclasses.replace(FAST, backoff_base_s=0)
    in_process_worker(engine, config)
    # WHEN it has failed three times, SQS moves it to the DLQ
    sqs = aws_stack.client("sqs")
    dead: list[dict[str, object]] = []

    def dead_lettered() -> bool:
        dead.extend(sqs.receive_message(QueueUrl=aws_stack.dlq_url,
                                        MessageSystemAttributeNames=["All"]).get("Messages", []))
        return bool(dead)

    wait_for(dead_lettered, 30, "the message in the DLQ")
    assert len(engine.requests) == 3
    # AND the DLQ notifier, given that message, tells the person on the placeholder
    monkeypatch.setenv("SLACK_BOT_TOKEN", slack_api.token)
    dlq_notifier._targets.cache_clear()
    record = {"messageId": dead[0]["MessageId"], "receiptHandle": dead[0]["ReceiptHandle"],
              "body": dead[0]["Body"], "attributes": {}, "messageAttributes": {},
              "eventSource": "aws:sqs", "eventSourceARN": aws_stack.dlq_arn,
              "awsRegion": "us-east-1", "md5OfBody": ""}
    assert dlq_notifier.handler({"Records": [record]}, LambdaContext()) == {
        "batchItemFailures": []}
    dlq_notifier._targets.cache_clear()
    last = slack_api.calls_to("chat.update")[-1]
    assert "could not answer this question" in last.args["text"]
    assert slack_api.count("chat.postMessage") == 1
    stored = JobStore(aws_stack.jobs_table, client=boto3.client("dynamodb")).get(job.job_id)
    assert stored is not None and stored.status == FAILED


def test_the_default_engine_answers_verified_questions_and_explains_the_others(
    worker_process: Callable[..., WorkerProcess], aws_stack: AwsStack,
    slack_api: SlackApiStandIn,
) -> None:
    # GIVEN `databot worker` with its default engine, offline (verified queries only)
    verified = slack_job("How many users signed up?", thread_ts="1730000000.000001")
    other = slack_job("which weekday has the most churn among tablet users?",
                      thread_ts="1730000000.000002")
    send(aws_stack, verified, other)
    worker_process(engine="executor.router:build_engine")
    # WHEN both are answered
    def finals() -> dict[str, str]:
        texts = {}
        for call in slack_api.accepted("chat.update"):
            if "hourglass" not in call.args["text"]:
                texts[call.args["ts"]] = json.dumps(call.args["blocks"])
        return texts

    wait_for(lambda: len(finals()) == 2, 60, "two final replies")
    by_thread = {p.args["thread_ts"]: finals()[str((p.response or {})["ts"])]
                 for p in slack_api.accepted("chat.postMessage")}
    # THEN the verified one carries the badge and a count, the other says what is missing
    assert "Verified query" in by_thread["1730000000.000001"]
    assert "**5,000** users signed up" in by_thread["1730000000.000001"]
    assert "result.csv" in by_thread["1730000000.000001"]
    assert ":warning:" in by_thread["1730000000.000002"]
    # (the record is written after the files that follow the answer)
    jobs = JobStore(aws_stack.jobs_table, client=boto3.client("dynamodb"))
    wait_for(lambda: [getattr(jobs.get(j.job_id), "status", None)
                      for j in (verified, other)] == [DONE, FAILED], 10, "done and failed")


# The fault-injection run: reproducible from the seed.
FAULT_SEED = 20261130
LOAD_JOBS = 50
LOAD_KILLS = 3
# Share of Slack Web API calls and of DynamoDB requests answered with an injected fault.
FAULT_SHARE = 0.08


def test_under_load_killed_workers_and_injected_faults_leave_exactly_one_answer_per_job(
    worker_process: Callable[..., WorkerProcess], moto_server: str, slack_api: SlackApiStandIn,
    record_property: Callable[[str, object], None],
) -> None:
    # GIVEN 50 jobs in their own threads, a queue that does not dead-letter them early,
    # Slack answering a seeded share of calls with 429 / 5xx / ok:false, and DynamoDB
    # (through a proxy in front of moto) a seeded share with throttling / 5xx
    rng = random.Random(FAULT_SEED)
    stack = create_stack(moto_server, visibility_timeout_s=2, max_receive_count=50)
    jobs = [slack_job(thread_ts=f"1730000001.{n:06d}") for n in range(LOAD_JOBS)]
    send(stack, *jobs)
    slack_api.inject_faults(FAULT_SHARE, seed=FAULT_SEED)
    started = time.monotonic()
    with fault_proxy(moto_server, share=FAULT_SHARE, seed=FAULT_SEED + 1) as dynamodb:
        env = {**stack.env, "AWS_ENDPOINT_URL_DYNAMODB": dynamodb.url,
               "WORKER_CONCURRENCY": "8", "TEST_ENGINE_DELAY_S": "0.05"}
        worker = worker_process(**env)
        # WHEN the worker is killed with SIGKILL three times, each after a seeded number
        # of further Slack calls, and restarted each time
        for kill in range(LOAD_KILLS):
            target = len(slack_api.calls) + rng.randint(15, 60)
            wait_for(lambda at=target: len(slack_api.calls) >= at, 60,  # type: ignore[misc]
                     f"kill {kill + 1}'s moment")
            worker.process.send_signal(signal.SIGKILL)
            worker.process.wait(timeout=10)
            worker = worker_process(**env)
        records = JobStore(stack.jobs_table, client=stack.client("dynamodb"))

        def all_done() -> bool:
            return all(getattr(records.get(j.job_id), "status", None) == DONE for j in jobs)

        wait_for(all_done, 120, "every job recorded done")
        wait_for(lambda: stack.queue_depth() == (0, 0), 30, "an empty queue")
    elapsed = time.monotonic() - started
    # THEN every thread holds exactly one placeholder, which now shows the answer, the
    # chart at most once (a note says so when it is missing), and nothing was dead-lettered
    placeholders: dict[str, int] = {}
    answers_in: dict[str, int] = {}
    notes = 0
    for job in jobs:
        thread_ts = str(job.reply_to.thread_ts)
        thread = slack_api.thread("C0001", thread_ts)
        placeholders[thread_ts] = sum(
            1 for c in slack_api.accepted("chat.postMessage")
            if c.args.get("thread_ts") == thread_ts and "Working on it" in c.args["text"])
        answers_in[thread_ts] = sum(1 for m in thread if "users signed up" in json.dumps(m.blocks))
        job_notes = sum(1 for m in thread if "could not be delivered" in m.text)
        charts = sum(1 for m in thread if m.files)
        notes += job_notes
        assert (charts, job_notes) in ((1, 0), (0, 1)), thread_ts
        assert not any("hourglass" in m.text for m in thread), thread_ts
    assert set(placeholders.values()) == {1}, placeholders
    assert set(answers_in.values()) == {1}, answers_in
    assert stack.queue_depth(stack.dlq_url) == (0, 0)
    summary = {
        "jobs": LOAD_JOBS, "kills": LOAD_KILLS, "seconds": round(elapsed, 1),
        "slack_faults": dict(slack_api.injected), "dynamodb_faults": dict(dynamodb.injected),
        "dynamodb_forwarded": dynamodb.forwarded, "slack_calls": len(slack_api.calls),
        "answers_per_thread": sorted(set(answers_in.values())),
        "placeholders_per_thread": sorted(set(placeholders.values())),
        "partial_delivery_notes": notes,
    }
    record_property("fault_injection", json.dumps(summary))
    assert sum(slack_api.injected.values()) > 0 and sum(dynamodb.injected.values()) > 0


def test_the_worker_s_statements_reach_the_audit_trail_in_s3_by_the_time_it_exits(
    worker_process: Callable[..., WorkerProcess], aws_stack: AwsStack,
    slack_api: SlackApiStandIn,
) -> None:
    # GIVEN `databot worker` with its default engine, writing the trail only at exit
    question = slack_job("How many users signed up?", thread_ts="1730000000.000003")
    send(aws_stack, question)
    worker = worker_process(engine="executor.router:build_engine", AUDIT_FLUSH_S="600")
    wait_for(lambda: aws_stack.queue_depth() == (0, 0), 60, "the answered job")
    s3 = boto3.client("s3")
    assert bucket_records(s3, aws_stack.bucket) == {}
    # WHEN the worker is stopped
    worker.process.send_signal(signal.SIGTERM)
    assert worker.process.wait(timeout=30) == 0
    # THEN the answer's statements are in S3 under audit/date=<today>/, as the asker's
    [(key, records)] = bucket_records(s3, aws_stack.bucket).items()
    assert key.startswith(f"audit/date={time.strftime('%Y-%m-%d', time.gmtime())}/")
    assert {(r["job_id"], r["platform"], r["user"], r["workspace"], r["channel"],
             r["database_user"], r["outcome"]) for r in records} == {
        (question.job_id, "slack", "U0001", "T0001", "C0001", "duckdb", "ok")}
    assert {r["action"] for r in records} == {"query", "export"}
