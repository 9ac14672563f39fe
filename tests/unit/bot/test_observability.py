"""One service name for every log line of a process, and a thread's correlation id."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest

from bot.observability import DEFAULT_SERVICE, correlated, service_logger, service_name


def test_the_service_is_the_functions_and_databot_without_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("POWERTOOLS_SERVICE_NAME", raising=False)
    assert service_name() == DEFAULT_SERVICE == "databot"
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "slack-ingress")
    assert service_name() == "slack-ingress"
    assert service_logger().service == "slack-ingress"


def test_every_module_shares_one_logger() -> None:
    assert service_logger()._logger is logging.getLogger(service_name())
    assert service_logger().registered_handler is service_logger().registered_handler


def test_a_correlation_id_marks_its_threads_lines_inside_the_block_only(
    log_lines: list[dict[str, Any]],
) -> None:
    # GIVEN one thread inside a correlated block and another thread logging meanwhile
    logger = service_logger()
    with correlated(logger, "Ev08ABCDEF"):
        logger.warning("inside")
        other = threading.Thread(target=logger.warning, args=("other thread",))
        other.start()
        other.join()
    logger.warning("after")
    # THEN only the block's own lines carry the id
    ids = {line["message"]: line.get("correlation_id") for line in log_lines}
    assert ids == {"inside": "Ev08ABCDEF", "other thread": None, "after": None}
