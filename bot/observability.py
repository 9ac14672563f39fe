"""The service every log line and metric names, and the correlation id that ties a job's
lines (and, when tracing is on, its trace) together.

The service is POWERTOOLS_SERVICE_NAME, which template.yaml sets per function and task,
else "databot" (the CLI, a worker or `databot dev` run from a checkout) rather than
Powertools' "service_undefined". Powertools keys a Logger by its service, so every module's
`service_logger()` in one process is the same logger: one handler, one set of keys, and a
correlation id set anywhere shows on every line.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from aws_lambda_powertools import Logger

from bot.tracing import traced_job

SERVICE_NAME_ENV = "POWERTOOLS_SERVICE_NAME"
DEFAULT_SERVICE = "databot"


def service_name() -> str:
    return os.environ.get(SERVICE_NAME_ENV) or DEFAULT_SERVICE


def service_logger() -> Logger:
    return Logger(service=service_name())


@contextmanager
def correlated(logger: Logger, correlation_id: str | None) -> Iterator[None]:
    """Every line logged in this thread inside the block carries `correlation_id` (a job
    id). Thread-local, so `databot dev`'s listeners and in-process worker do not mix ids.
    In a traced Lambda the block is also the job's subsegment, annotated with its id."""
    logger.thread_safe_append_keys(correlation_id=correlation_id)
    try:
        with traced_job(correlation_id):
            yield
    finally:
        logger.thread_safe_remove_keys(["correlation_id"])
