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

from bot.dead_letters import notify_dead_letter
from bot.job import job_id_of
from bot.job_store import JobStore
from bot.observability import correlated, service_logger
from bot.settings import IngressSettings
from bot.slack.replier import SlackReplier, web_client

logger = service_logger()
processor = BatchProcessor(event_type=EventType.SQS)


@functools.cache
def _targets() -> tuple[JobStore, SlackReplier | None]:
    settings = IngressSettings.from_env().with_slack_secrets()
    settings.require("jobs_table")
    replier = (
        SlackReplier(web_client(settings.bot_token, settings.slack_api_url))
        if settings.bot_token
        else None
    )
    return JobStore(str(settings.jobs_table), ttl_days=settings.job_ttl_days), replier


def record_handler(record: SQSRecord) -> None:
    jobs, replier = _targets()
    with correlated(logger, job_id_of(record.body)):
        notify_dead_letter(record.body, record.message_id, jobs=jobs, replier=replier)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(  # type: ignore[return-value]
        event=event, record_handler=record_handler, processor=processor, context=context
    )
