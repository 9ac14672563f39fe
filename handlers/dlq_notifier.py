"""Lambda on the jobs DLQ: tell the person their question could not be answered and mark
the job failed. One record at a time, with partial batch failures (a record whose Slack
call failed passingly is retried by Lambda; the others are done)."""

from __future__ import annotations

import functools
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from bot.config import Env
from bot.dead_letters import notify_dead_letter
from bot.delivery import Channels, ChannelsConfig, open_channels
from bot.job import job_id_of
from bot.job_store import JobsConfig, JobStore
from bot.observability import correlated, service_logger
from bot.tracing import capture_lambda_handler

logger = service_logger()
processor = BatchProcessor(event_type=EventType.SQS)


@functools.cache
def _targets() -> tuple[JobStore, Channels]:
    env = Env()
    jobs = JobsConfig.from_env(env)
    jobs.require(queue=False)
    channels = open_channels(ChannelsConfig.from_env(env))
    return JobStore(str(jobs.table), ttl_days=jobs.ttl_days), channels


def record_handler(record: SQSRecord) -> None:
    jobs, channels = _targets()
    with correlated(logger, job_id_of(record.body)):
        notify_dead_letter(record.body, record.message_id, jobs=jobs, channels=channels)


@capture_lambda_handler
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(  # type: ignore[return-value]
        event=event, record_handler=record_handler, processor=processor, context=context
    )
