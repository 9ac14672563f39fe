"""handlers/dlq_notifier.py on a sample DLQ event, with moto and the Slack stand-in."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from bot.dead_letters import notify_dead_letter
from bot.job import Job
from bot.job_store import DONE, FAILED, JobRecord, JobStore
from bot.slack.render import status_message
from bot.slack.replier import Marker, SlackReplier, web_client
from handlers import dlq_notifier
from tests.support.aws import AwsStack
from tests.support.events import LambdaContext, load_event
from tests.support.slack_api import SlackApiStandIn
from tests.support.worker import slack_channels
from tests.support.xray import XRayDaemon, invoke_in_lambda


@pytest.fixture
def invoke(
    aws_stack: AwsStack, slack_api: SlackApiStandIn, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[dict[str, Any]], dict[str, Any]]]:
    monkeypatch.setenv("SLACK_BOT_TOKEN", slack_api.token)
    monkeypatch.setenv("SLACK_API_URL", slack_api.url)
    dlq_notifier._targets.cache_clear()
    yield lambda event: dlq_notifier.handler(event, LambdaContext())
    dlq_notifier._targets.cache_clear()


@pytest.fixture
def jobs(aws_stack: AwsStack) -> JobStore:
    return JobStore(aws_stack.jobs_table, client=boto3.client("dynamodb"))


def event_job(event: dict[str, Any]) -> Job:
    return Job.from_json(event["Records"][0]["body"])


def test_the_person_is_told_on_the_placeholder_and_the_job_is_failed(
    invoke: Callable[[dict[str, Any]], dict[str, Any]], slack_api: SlackApiStandIn, jobs: JobStore
) -> None:
    # GIVEN a job that got as far as its placeholder before failing for good
    event = load_event("dlq_message")
    job = event_job(event)
    jobs.claim(job, attempt=3)
    jobs.set_placeholder(job.job_id, job.reply_to.at("1731000000.000200"))
    # WHEN its message arrives from the DLQ
    result = invoke(event)
    # THEN the placeholder says so, with the job id as reference
    assert result == {"batchItemFailures": []}
    (update,) = slack_api.calls_to("chat.update")
    assert update.args["ts"] == "1731000000.000200"
    assert "could not answer this question" in update.args["text"]
    assert job.job_id in json.dumps(update.args["blocks"])
    record = jobs.get(job.job_id)
    assert record is not None and record.status == FAILED


def test_a_job_never_picked_up_is_answered_in_its_thread(
    invoke: Callable[[dict[str, Any]], dict[str, Any]], slack_api: SlackApiStandIn, jobs: JobStore
) -> None:
    event = load_event("dlq_message")
    job = event_job(event)
    invoke(event)
    (post,) = slack_api.calls_to("chat.postMessage")
    assert (post.args["channel"], post.args["thread_ts"]) == ("C0001", job.reply_to.thread_ts)
    record = jobs.get(job.job_id)
    assert record is not None and record.status == FAILED and record.source == "slack"


def test_a_job_answered_after_all_is_left_alone(
    invoke: Callable[[dict[str, Any]], dict[str, Any]], slack_api: SlackApiStandIn, jobs: JobStore
) -> None:
    event = load_event("dlq_message")
    job = event_job(event)
    jobs.claim(job, attempt=1)
    jobs.mark_done(job.job_id, {"text": "42"})
    invoke(event)
    assert slack_api.calls == []
    record = jobs.get(job.job_id)
    assert record is not None and record.status == DONE


def test_slack_down_fails_the_record_for_lambda_to_retry(
    invoke: Callable[[dict[str, Any]], dict[str, Any]], slack_api: SlackApiStandIn
) -> None:
    # GIVEN Slack answering internal_error, then a second record that goes through
    slack_api.fail_next("chat.postMessage", error="internal_error")
    event = load_event("dlq_message")
    second = json.loads(json.dumps(event["Records"][0]))
    second["messageId"] = "second-record"
    event["Records"].append(second)
    # WHEN the batch is handled
    result = invoke(event)
    # THEN only the first record is reported failed (Lambda retries it), the second is done
    first_id = event["Records"][0]["messageId"]
    assert result == {"batchItemFailures": [{"itemIdentifier": first_id}]}
    assert len(slack_api.accepted("chat.postMessage")) == 1


def test_a_slack_refusal_is_logged_not_retried(
    invoke: Callable[[dict[str, Any]], dict[str, Any]], slack_api: SlackApiStandIn, jobs: JobStore
) -> None:
    # GIVEN Slack refusing the message for a reason a retry cannot fix
    slack_api.fail_next("chat.postMessage", error="invalid_blocks")
    event = load_event("dlq_message")
    # WHEN its record is handled
    result = invoke(event)
    # THEN the record is done (not retried for the DLQ's retention) and the job failed
    assert result == {"batchItemFailures": []}
    assert slack_api.count("chat.postMessage") == 1
    record = jobs.get(event_job(event).job_id)
    assert record is not None and record.status == FAILED


def test_a_job_answered_while_the_record_is_handled_keeps_its_answer(
    aws_stack: AwsStack, slack_api: SlackApiStandIn
) -> None:
    class AnsweredJustAfterRead(JobStore):
        """The worker finishes the job between the notifier's read and its write."""

        def get(self, job_id: str) -> JobRecord | None:
            record = super().get(job_id)
            self.mark_done(job_id, {"text": "42"})
            return record

    jobs = AnsweredJustAfterRead(aws_stack.jobs_table, client=boto3.client("dynamodb"))
    event = load_event("dlq_message")
    job = event_job(event)
    jobs.claim(job, attempt=3)

    notify_dead_letter(
        event["Records"][0]["body"],
        "m1",
        jobs=jobs,
        channels=slack_channels(web_client(slack_api.token, slack_api.url)),
    )

    # (the thread may be read back; nothing is written to it)
    assert slack_api.count("chat.postMessage") == slack_api.count("chat.update") == 0
    record = jobs.get(job.job_id)
    assert record is not None and record.status == DONE and record.answer == {"text": "42"}


def test_a_poison_message_is_answered_where_its_reply_address_points(
    invoke: Callable[[dict[str, Any]], dict[str, Any]], slack_api: SlackApiStandIn
) -> None:
    # GIVEN a dead-lettered body that is no job, but whose reply address can still be read
    event = load_event("dlq_message")
    body = json.loads(event["Records"][0]["body"])
    body["version"] = 99
    event["Records"][0]["body"] = json.dumps(body)
    # WHEN its record is handled
    result = invoke(event)
    # THEN the person is told in the thread, with the message id as reference
    assert result == {"batchItemFailures": []}
    (post,) = slack_api.calls_to("chat.postMessage")
    assert (post.args["channel"], post.args["thread_ts"]) == ("C0001", "1731000000.000100")
    assert "could not answer this question" in post.args["text"]
    assert event["Records"][0]["messageId"] in json.dumps(post.args["blocks"])


def test_the_failed_record_expires_after_job_ttl_days(
    invoke: Callable[[dict[str, Any]], dict[str, Any]],
    aws_stack: AwsStack,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JOB_TTL_DAYS", "2")
    event = load_event("dlq_message")
    before = int(time.time())

    invoke(event)

    item = boto3.client("dynamodb").get_item(
        TableName=aws_stack.jobs_table, Key={"job_id": {"S": event_job(event).job_id}}
    )["Item"]
    assert before + 2 * 86400 <= int(item["expiration"]["N"]) <= time.time() + 2 * 86400


def test_an_answer_already_in_the_thread_is_not_overwritten(
    invoke: Callable[[dict[str, Any]], dict[str, Any]], slack_api: SlackApiStandIn, jobs: JobStore
) -> None:
    # GIVEN a job whose worker put the answer on its placeholder, then died before
    # recording it (the record still says running)
    event = load_event("dlq_message")
    job = event_job(event)
    jobs.claim(job, attempt=3)
    client = web_client(slack_api.token, slack_api.url)
    ts = SlackReplier(client).post(job.reply_to, status_message("42 users"),
                                   marker=Marker("answer", job.job_id))
    jobs.set_placeholder(job.job_id, job.reply_to.at(ts))
    # WHEN its message arrives from the DLQ
    assert invoke(event) == {"batchItemFailures": []}
    # THEN the answer stands and the job is recorded done, not failed
    assert slack_api.count("chat.update") == 0
    assert slack_api.count("chat.postMessage") == 1
    record = jobs.get(job.job_id)
    assert record is not None and record.status == DONE


def test_each_records_lines_carry_its_job_id(
    invoke: Callable[[dict[str, Any]], dict[str, Any]], log_lines: list[dict[str, Any]]
) -> None:
    event = load_event("dlq_message")
    invoke(event)
    marked = [line for line in log_lines if "marked failed" in str(line["message"])]
    assert [line["correlation_id"] for line in marked] == [event_job(event).job_id]
    assert marked[0]["function_request_id"] == LambdaContext.aws_request_id


def test_a_traced_batch_has_a_job_subsegment_per_record(
    aws_stack: AwsStack, slack_api: SlackApiStandIn, xray_daemon: XRayDaemon
) -> None:
    # GIVEN two dead letters in one batch, the Tracer enabled (XRayTracer=Enabled)
    event = load_event("dlq_message")
    (record,) = event["Records"]
    second = json.loads(record["body"]) | {"job_id": "Ev08SECOND"}
    event["Records"].append(record | {"messageId": "second", "body": json.dumps(second)})
    env = {**aws_stack.env, "SLACK_BOT_TOKEN": slack_api.token, "SLACK_API_URL": slack_api.url,
           "POWERTOOLS_SERVICE_NAME": "dlq-notifier", "POWERTOOLS_TRACE_DISABLED": "false"}

    # WHEN one sampled invocation handles them
    invocation = invoke_in_lambda("handlers.dlq_notifier", event, env, xray_daemon)

    # THEN each record's work is its own subsegment, annotated with its job id, holding
    # its own jobs-table calls
    assert invocation.response == {"batchItemFailures": []}
    subsegments = xray_daemon.subsegments()
    jobs = {s["annotations"]["job_id"]: s["id"] for s in subsegments if s["name"] == "## job"}
    assert sorted(jobs) == ["Ev08ABCDEF", "Ev08SECOND"]
    for job_subsegment in jobs.values():
        assert any(s["name"] == "dynamodb" and s["parent_id"] == job_subsegment
                   for s in subsegments)
