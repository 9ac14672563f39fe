"""When the ingress Lambdas trace, and that nothing happens when they do not. The traces
themselves are read in tests/unit/handlers/, from fresh interpreters run as Lambda runs them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bot import tracing
from bot.config import ConfigError


@pytest.fixture(autouse=True)
def fresh_tracer(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test decides anew, in a Lambda container with tracing not disabled."""
    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")
    monkeypatch.delenv("AWS_SAM_LOCAL", raising=False)
    monkeypatch.delenv(tracing.TRACE_DISABLED_ENV, raising=False)
    tracing.tracer.cache_clear()
    tracing._captured.cache_clear()
    yield
    tracing.tracer.cache_clear()
    tracing._captured.cache_clear()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        (tracing.TRACE_DISABLED_ENV, "true"),  # what XRayTracer=Disabled sets
        ("AWS_SAM_LOCAL", "true"),  # sam local invoke
        ("LAMBDA_TASK_ROOT", ""),  # not Lambda: tests, databot dev, the worker, the CLI
    ],
)
def test_no_tracer_when_disabled_under_sam_local_or_outside_lambda(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    assert tracing.tracer() is None


def test_without_a_tracer_the_handler_and_the_job_block_run_as_they_are(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN tracing disabled
    monkeypatch.setenv(tracing.TRACE_DISABLED_ENV, "true")
    calls: list[Any] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        with tracing.traced_job("Ev08ABCDEF"):
            calls.append((event, context))
        return {"statusCode": 200}

    # WHEN the wrapped handler runs
    wrapped = tracing.capture_lambda_handler(handler)
    # THEN it is the handler itself, called as it was
    assert wrapped({"a": 1}, "context") == {"statusCode": 200}
    assert calls == [({"a": 1}, "context")]
    assert tracing._captured(handler) is handler
    assert wrapped.__name__ == "handler"


def test_a_malformed_switch_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(tracing.TRACE_DISABLED_ENV, "maybe")
    with pytest.raises(ConfigError, match=tracing.TRACE_DISABLED_ENV):
        tracing.tracer()
