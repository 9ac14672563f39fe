"""`log_lines` (per test): the service's log lines written during the test, as the JSON
objects Powertools writes (with the Lambda context and correlation id keys)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from bot.observability import service_logger


class FormattedLines(logging.Handler):
    """Each record as the service's JSON line, formatted when it is logged (a correlation
    id is thread-local and gone once its block ends)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict[str, Any]] = []
        self.setFormatter(service_logger().registered_formatter)

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def log_lines() -> Iterator[list[dict[str, Any]]]:
    logger = service_logger()
    handler = FormattedLines()
    level = logger.log_level
    logger.setLevel(logging.INFO)  # the level a deployed Lambda logs at
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)
    logger.setLevel(level)
