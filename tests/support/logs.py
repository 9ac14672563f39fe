"""`log_lines` (per test): the service's log lines written during the test, as the JSON
objects Powertools writes (with the Lambda context and correlation id keys)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from bot.observability import service_logger, service_name


class FormattedLines(logging.Handler):
    """Each record as the service's JSON line, formatted when it is logged (a correlation
    id is thread-local and gone once its block ends)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict[str, Any]] = []
        self.setFormatter(service_logger().registered_formatter)

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@contextmanager
def listening(handler: logging.Handler) -> Iterator[None]:
    """`handler` receives the service's records, at the level a deployed Lambda logs at."""
    logger = logging.getLogger(service_name())
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.fixture
def log_lines() -> Iterator[list[dict[str, Any]]]:
    handler = FormattedLines()
    with listening(handler):
        yield handler.lines
