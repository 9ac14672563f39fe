"""Job metrics as CloudWatch EMF (Powertools Metrics): started, succeeded, failed, duplicate
messages dropped, partial deliveries, duration, queue-to-first-reply and queue-to-answer
latency, and per answer whether it was verified, what it cost, whether a fallback model
gave it and how many Python runs failed; model errors; and what the daily `databot verified
check` found (broken and drifted verified queries, or that it could not run). Off when no
namespace is configured, so tests and local runs write nothing; the counts are also kept in
memory for /health.

The stack's dashboard and alarms (template.yaml) read these names, in namespace
POWERTOOLS_METRICS_NAMESPACE with the dimension service=databot-worker."""

from __future__ import annotations

import threading
from collections import Counter

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from bot.answer import Answer

SERVICE = "databot-worker"


class WorkerMetrics:
    def __init__(self, namespace: str | None, *, primary_model: str | None = None) -> None:
        self._metrics = Metrics(namespace=namespace, service=SERVICE) if namespace else None
        # The first of MODEL_IDS: an answer from any other model came from a fallback.
        self._primary_model = primary_model
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

    def duplicate(self) -> None:
        """A second message of a job another message held (a chat event delivered twice),
        dropped once the job finished."""
        self._emit("DuplicateJobs", MetricUnit.Count, 1)

    def partial_delivery(self) -> None:
        """An answer went out but a continuation or a file did not (told in the thread)."""
        self._emit("PartialDeliveries", MetricUnit.Count, 1)

    def first_reply(self, latency_s: float) -> None:
        self._emit("QueueToFirstReply", MetricUnit.Seconds, latency_s)

    def answered(self, answer: Answer | None, latency_s: float) -> None:
        """An answer is out, `latency_s` after its question was queued; `answer` is None
        when an earlier delivery sent it (then only the latency is known)."""
        self._emit("QueueToAnswer", MetricUnit.Seconds, latency_s)
        if answer is None:
            return
        self._emit("AnswersVerified", MetricUnit.Count, int(answer.verified))
        self._emit("AnswerCost", MetricUnit.NoUnit, answer.usage.cost_usd)
        model = answer.usage.model_id
        if model and self._primary_model and model != self._primary_model:
            self._emit("ModelFallbacks", MetricUnit.Count, 1)
        failed_runs = sum(1 for run in answer.code if run.error)
        if failed_runs:
            self._emit("SandboxFailures", MetricUnit.Count, failed_runs)

    def model_error(self) -> None:
        """A job failed, or is retried, because no model could answer it."""
        self._emit("ModelErrors", MetricUnit.Count, 1)

    def verified_checked(self, *, ok: int, drifted: int, broken: int) -> None:
        """The verified queries the check found ok, drifted and broken."""
        self._emit("VerifiedOk", MetricUnit.Count, ok)
        self._emit("VerifiedDrifted", MetricUnit.Count, drifted)
        self._emit("VerifiedBroken", MetricUnit.Count, broken)

    def verified_check_failed(self) -> None:
        """The check could not run at all (no library, store or warehouse to check with)."""
        self._emit("VerifiedCheckFailed", MetricUnit.Count, 1)

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
