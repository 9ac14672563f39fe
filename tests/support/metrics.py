"""The ingress's EMF metrics as a test reads them: `emitted` (fixture) gives the documents
written to stdout with a namespace configured as in the stack; `flushed` flushes and totals
them by metric name."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.ingress.metrics import metrics

Emitted = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def emitted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Emitted]:
    """The EMF documents written to stdout so far, with a namespace configured as in the stack."""
    monkeypatch.setattr(metrics.provider, "namespace", "databot")
    metrics.clear_metrics()

    def read() -> list[dict[str, Any]]:
        lines = capsys.readouterr().out.splitlines()
        return [json.loads(line) for line in lines if line.startswith('{"_aws"')]

    yield read
    metrics.clear_metrics()


def counts(documents: list[dict[str, Any]]) -> dict[str, float]:
    """Metric name → total over `documents`."""
    totals: dict[str, float] = {}
    for document in documents:
        for definition in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
            name = definition["Name"]
            values = document[name] if isinstance(document[name], list) else [document[name]]
            totals[name] = totals.get(name, 0) + sum(values)
    return totals


def flushed(emitted: Emitted) -> dict[str, float]:
    metrics.flush_metrics()
    return counts(emitted())
