"""Lambda entry point for Slack: events, slash commands and interactivity (HTTP API or
Function URL). The app is built on the first request, once per container."""

from __future__ import annotations

import functools
from typing import Any

from bot.config import Env
from bot.ingress.metrics import metrics
from bot.observability import service_logger
from bot.slack.ingress import SlackIngress
from bot.tracing import capture_lambda_handler

logger = service_logger()


@functools.cache
def _ingress() -> SlackIngress:
    return SlackIngress.from_env(Env())


# The correlation id (and the trace's job_id annotation) is set by the listeners, from the
# event_id Bolt has already parsed.
@capture_lambda_handler
@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _ingress().handle(event, context)
