"""The worker's own settings (concurrency, timings, ports), read from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from executor.conversations import DEFAULT_TOKEN_BUDGET, DEFAULT_TTL_DAYS

N = TypeVar("N", int, float)


class ConfigError(ValueError):
    """A worker setting is malformed; the message names the variable and the value."""


@dataclass(frozen=True)
class WorkerConfig:
    # Jobs whose engine runs at once: an agent job mostly waits on the model, so one task
    # runs several.
    concurrency: int = 8
    # Jobs taken beyond that, so their bookkeeping (claim, placeholder, history; then
    # upload, records, delete) overlaps other jobs' engine time instead of idling a slot.
    # None: as many as `concurrency`. 0: none.
    prefetch: int | None = None
    # SQS long-poll wait and batch size (SQS allows at most 20 s and 10 messages).
    wait_time_s: int = 20
    batch_size: int = 10
    # Each heartbeat pushes a running job's message this far out of sight.
    visibility_s: int = 60
    heartbeat_s: float = 20.0
    # On SIGTERM, running jobs get this long to finish (Fargate's stop timeout is 120 s).
    grace_s: float = 100.0
    health_port: int = 8080
    # Powertools' own variable; metrics are off when it is unset.
    metrics_namespace: str | None = None
    progress_interval_s: float = 1.0
    # Deliveries an unexpected exception is retried over before it is answered.
    unexpected_attempts: int = 2
    backoff_base_s: int = 10
    backoff_max_s: int = 900
    history_token_budget: int = DEFAULT_TOKEN_BUDGET
    conversation_ttl_days: int = DEFAULT_TTL_DAYS
    # Job records' TTL, as the ingress writes them (bot/settings.py).
    job_ttl_days: int = 30

    def __post_init__(self) -> None:
        # Command-line overrides land here too, past from_env's checks.
        if self.concurrency < 1:
            raise ConfigError(f"WORKER_CONCURRENCY must be >= 1, got {self.concurrency!r}")
        if self.heartbeat_s >= self.visibility_s:
            raise ConfigError(
                f"WORKER_HEARTBEAT_S must be below WORKER_VISIBILITY_S ({self.visibility_s}), "
                f"got {self.heartbeat_s!r}"
            )
        if not 0 <= self.health_port <= 65535:
            raise ConfigError(f"HEALTH_PORT must be between 0 and 65535, got {self.health_port!r}")

    @property
    def max_in_flight(self) -> int:
        """Messages held at once: running their engine, or being set up or finished."""
        return self.concurrency + (self.concurrency if self.prefetch is None else self.prefetch)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WorkerConfig:
        env = os.environ if env is None else env
        d = cls()
        visibility_s = _number(env, "WORKER_VISIBILITY_S", d.visibility_s, int)
        return cls(
            concurrency=_number(env, "WORKER_CONCURRENCY", d.concurrency, int),
            prefetch=(
                _number(env, "WORKER_PREFETCH", 0, int, minimum=0)
                if env.get("WORKER_PREFETCH")
                else None
            ),
            wait_time_s=_number(env, "WORKER_WAIT_S", d.wait_time_s, int, maximum=20),
            batch_size=_number(env, "WORKER_BATCH_SIZE", d.batch_size, int, maximum=10),
            visibility_s=visibility_s,
            heartbeat_s=_number(env, "WORKER_HEARTBEAT_S", visibility_s / 3, float),
            grace_s=_number(env, "WORKER_GRACE_S", d.grace_s, float),
            health_port=_number(env, "HEALTH_PORT", d.health_port, int, minimum=0),
            metrics_namespace=env.get("POWERTOOLS_METRICS_NAMESPACE") or None,
            progress_interval_s=_number(
                env, "PROGRESS_INTERVAL_S", d.progress_interval_s, float, minimum=0
            ),
            unexpected_attempts=_number(
                env, "WORKER_UNEXPECTED_ATTEMPTS", d.unexpected_attempts, int
            ),
            backoff_base_s=_number(env, "WORKER_BACKOFF_BASE_S", d.backoff_base_s, int, minimum=0),
            backoff_max_s=_number(env, "WORKER_BACKOFF_MAX_S", d.backoff_max_s, int, minimum=0),
            history_token_budget=_number(
                env, "HISTORY_TOKEN_BUDGET", d.history_token_budget, int, minimum=0
            ),
            conversation_ttl_days=_number(
                env, "CONVERSATION_TTL_DAYS", d.conversation_ttl_days, int
            ),
            job_ttl_days=_number(env, "JOB_TTL_DAYS", d.job_ttl_days, int),
        )


def _number(
    env: Mapping[str, str],
    name: str,
    default: N,
    kind: type[N],
    *,
    minimum: float = 1,
    maximum: float | None = None,
) -> N:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        expected = "an integer" if kind is int else "a number"
        raise ConfigError(f"{name} must be {expected}, got {raw!r}") from None
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise ConfigError(f"{name} must be {bounds}, got {raw!r}")
    return value
