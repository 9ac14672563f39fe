"""Lambda entry point for the HTTP prompt API (`POST /prompt`, `GET /prompt/{job_id}`).
The API is built on the first request, once per container."""

from __future__ import annotations

import functools
from typing import Any

from bot.api.prompt_api import PromptApi
from bot.config import Env
from bot.ingress.metrics import metrics
from bot.observability import service_logger
from bot.tracing import capture_lambda_handler

logger = service_logger()


@functools.cache
def _api() -> PromptApi:
    return PromptApi.from_env(Env())


# The correlation id (and the trace's job_id annotation) is the job id: the one created for a
# POST, the one asked about for a GET.
@capture_lambda_handler
@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _api().handle(event)
