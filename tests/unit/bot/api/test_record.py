"""The record channel: an API job's notice (a review's outcome) is its recorded answer."""

from __future__ import annotations

import boto3

from bot.answer import Answer
from bot.api.record import RecordOutbox
from bot.delivery import MENTION
from bot.job_store import DONE, JobStore
from tests.support.aws import AwsStack
from tests.support.worker import slack_job


def test_a_notice_is_recorded_as_the_answer_with_the_person_named(aws_stack: AwsStack) -> None:
    # GIVEN a claimed job answered into JOBS_TABLE
    jobs = JobStore(aws_stack.jobs_table, client=boto3.client("dynamodb"))
    job = slack_job(source="api")
    jobs.claim(job, attempt=1)
    # WHEN its outbox says a notice naming the reviewer
    RecordOutbox(jobs, job.job_id).say(f"Verified by {MENTION}: done.", mention="U0REVIEW")
    # THEN the job is done and its answer is the notice
    record = jobs.get(job.job_id)
    assert record is not None and record.status == DONE and record.answer is not None
    assert Answer.from_dict(record.answer).text == "Verified by U0REVIEW: done."
