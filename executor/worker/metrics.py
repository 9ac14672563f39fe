"""Job metrics as CloudWatch EMF (Powertools Metrics): started, succeeded, failed,
partial deliveries, duration, queue-to-first-reply latency. Off when no namespace is
configured, so tests and local runs write nothing; the counts are also kept in memory
for /health."""

from __future__ import annotations

import threading
from collections import Counter

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = "databot-worker"


class WorkerMetrics:
    def __init__(self, namespace: str | None) -> None:
        self._metrics = Metrics(namespace=namespace, service=SERVICE) if namespace else None
        # Powertools keeps one metric set per process: add and flush under one lock.
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def job_started(self) -> None:
        self._emit("JobsStarted", MetricUnit.Count, 1)

    def job_succeeded(self, duration_s: float) -> None:
        self._emit("JobsSucceeded", MetricUnit.Count, 1, ("JobDuration", duration_s))

    def job_failed(self, verdict: str, duration_s: float) -> None:
        self._emit("JobsFailed", MetricUnit.Count, 1, ("JobDuration", duration_s), kind=verdict)

    def job_retried(self) -> None:
        self._emit("JobsRetried", MetricUnit.Count, 1)

    def partial_delivery(self) -> None:
        """An answer went out but a continuation or a file did not (told in the thread)."""
        self._emit("PartialDeliveries", MetricUnit.Count, 1)

    def first_reply(self, latency_s: float) -> None:
        self._emit("QueueToFirstReply", MetricUnit.Seconds, latency_s)

    def _emit(
        self,
        name: str,
        unit: MetricUnit,
        value: float,
        seconds: tuple[str, float] | None = None,
        kind: str | None = None,
    ) -> None:
        with self._lock:
            self.counts[name] += 1
            if self._metrics is None:
                return
            self._metrics.add_metric(name=name, unit=unit, value=value)
            if seconds is not None:
                self._metrics.add_metric(name=seconds[0], unit=MetricUnit.Seconds, value=seconds[1])
            if kind is not None:
                self._metrics.add_metadata(key="kind", value=kind)
            self._metrics.flush_metrics()
