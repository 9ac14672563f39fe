"""Lambda entry point for Microsoft Teams: Bot Framework activities on `POST /teams/messages`
(HTTP API or Function URL). The front door is built on the first request, once per
container, and keeps Bot Framework's signing keys across warm invocations."""

from __future__ import annotations

import functools
from typing import Any

from bot.config import Env
from bot.ingress.metrics import metrics
from bot.observability import service_logger
from bot.teams.ingress import TeamsIngress
from bot.tracing import capture_lambda_handler

logger = service_logger()


@functools.cache
def _ingress() -> TeamsIngress:
    return TeamsIngress.from_env(Env())


# The correlation id (and the trace's job_id annotation) is set by the ingress once it has
# read the activity.
@capture_lambda_handler
@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _ingress().handle(event, context)
