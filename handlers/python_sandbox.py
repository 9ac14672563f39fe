"""The sandbox Lambda function: runs one piece of Python under the local backend's
confinement and returns the result as JSON (see executor/sandbox/aws_lambda.py)."""

from __future__ import annotations

from typing import Any

from bot.observability import service_logger
from executor.sandbox.aws_lambda import handle_invocation

logger = service_logger()


@logger.inject_lambda_context(correlation_id_path="job_id")
def handler(event: Any, context: Any) -> dict[str, Any]:
    return handle_invocation(event, context.get_remaining_time_in_millis() / 1000)
