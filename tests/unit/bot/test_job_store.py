"""JOBS_TABLE: the message that holds a job, and the placeholder, kept as one reply address
and read from items of the older layout (three Slack attributes) that jobs in flight during
a deploy still have."""

from __future__ import annotations

import boto3

from bot.job import ReplyTo
from bot.job_store import JobStore
from tests.support.aws import AwsStack
from tests.support.worker import slack_job


def test_a_placeholder_is_kept_and_read_back_as_a_reply_address(aws_stack: AwsStack) -> None:
    # GIVEN a slash command's job whose worker posted the question and, under it, the
    # placeholder
    jobs = JobStore(aws_stack.jobs_table, client=boto3.client("dynamodb"))
    job = slack_job(thread_ts=None, response_url="https://hooks.example/commands/1")
    jobs.claim(job, attempt=1)
    placeholder = ReplyTo(kind="slack", team_id="T0001", channel="C0001",
                          thread_ts="1731000000.000100",
                          response_url="https://hooks.example/commands/1",
                          message="1731000000.000200")
    # WHEN it is kept
    jobs.set_placeholder(job.job_id, placeholder)
    # THEN the record holds it, and the job's replies go there
    record = jobs.get(job.job_id)
    assert record is not None and record.placeholder == placeholder
    assert record.replies_to(job) == placeholder


def test_a_placeholder_kept_in_the_older_layout_is_still_read(aws_stack: AwsStack) -> None:
    # GIVEN a job claimed and given a placeholder by a worker of the older layout
    client = boto3.client("dynamodb")
    jobs = JobStore(aws_stack.jobs_table, client=client)
    job = slack_job(thread_ts=None, response_url="https://hooks.example/commands/1")
    jobs.claim(job, attempt=1)
    client.update_item(
        TableName=aws_stack.jobs_table,
        Key={"job_id": {"S": job.job_id}},
        UpdateExpression="SET placeholder_channel = :c, placeholder_ts = :ts, "
                         "reply_thread_ts = :thread",
        ExpressionAttributeValues={":c": {"S": "C0001"}, ":ts": {"S": "1731000000.000200"},
                                   ":thread": {"S": "1731000000.000100"}},
    )
    # WHEN a worker of this layout reads it
    record = jobs.get(job.job_id)
    # THEN the placeholder is found, and the job's own address fills in the rest
    assert record is not None
    assert record.placeholder == ReplyTo(kind="slack", channel="C0001",
                                         thread_ts="1731000000.000100",
                                         message="1731000000.000200")
    assert record.replies_to(job) == ReplyTo(
        kind="slack", team_id="T0001", channel="C0001", thread_ts="1731000000.000100",
        response_url="https://hooks.example/commands/1", message="1731000000.000200")


def test_a_job_without_a_placeholder_replies_where_it_was_asked(aws_stack: AwsStack) -> None:
    jobs = JobStore(aws_stack.jobs_table, client=boto3.client("dynamodb"))
    job = slack_job()
    claim = jobs.claim(job, attempt=1)
    assert claim.record.placeholder is None
    assert claim.record.replies_to(job) == job.reply_to


def test_the_record_keeps_who_asked_whether_queued_or_claimed_first(aws_stack: AwsStack) -> None:
    # GIVEN a job the ingress recorded as queued, and one the worker claims unrecorded
    jobs = JobStore(aws_stack.jobs_table, client=boto3.client("dynamodb"))
    queued, claimed = slack_job(job_id="Q1"), slack_job(job_id="C1")
    jobs.put_queued(queued)
    # WHEN both are claimed
    jobs.claim(queued, attempt=1)
    record = jobs.claim(claimed, attempt=1).record
    # THEN each record names its asker (the votes on the answer are told apart by it)
    assert record.user_id == claimed.user_id
    queued_record = jobs.get("Q1")
    assert queued_record is not None and queued_record.user_id == queued.user_id


def test_the_message_that_claimed_a_job_holds_it_and_another_message_of_it_never_does(
    aws_stack: AwsStack,
) -> None:
    # GIVEN a job claimed by its first message
    jobs = JobStore(aws_stack.jobs_table, client=boto3.client("dynamodb"))
    job = slack_job()
    first = jobs.claim(job, attempt=1, message_id="m-1")
    # WHEN a second message of the same job is received, once and again later
    duplicate = jobs.claim(job, attempt=1, message_id="m-2")
    duplicate_again = jobs.claim(job, attempt=5, message_id="m-2")
    # AND the first message comes back after its worker died
    redelivered = jobs.claim(job, attempt=2, message_id="m-1")
    # THEN only the first message's deliveries claim the job; the other is told apart
    assert first.claimed and redelivered.claimed
    assert not duplicate.claimed and not duplicate_again.claimed
    assert duplicate.record.held_by_another("m-2")
    assert not redelivered.record.held_by_another("m-1")
    assert redelivered.record.message_id == "m-1" and redelivered.record.claims == 2
