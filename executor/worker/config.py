"""The worker's settings: its own (concurrency, timings, ports: `WorkerConfig`) and the
whole deployable's (`WorkerSettings`: the engine, the jobs queue and tables, Slack), read
from the environment in `WorkerSettings.from_env`."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.config import ConfigError, Env
from bot.delivery import ChannelsConfig
from bot.job_store import JobsConfig
from executor.config import EngineConfig
from executor.conversations import DEFAULT_TOKEN_BUDGET, DEFAULT_TTL_DAYS


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
    def from_env(cls, env: Env) -> WorkerConfig:
        visibility_s = env.integer("WORKER_VISIBILITY_S", cls.visibility_s)
        return cls(
            concurrency=env.integer("WORKER_CONCURRENCY", cls.concurrency),
            prefetch=env.integer("WORKER_PREFETCH", None, minimum=0),
            wait_time_s=env.integer("WORKER_WAIT_S", cls.wait_time_s, maximum=20),
            batch_size=env.integer("WORKER_BATCH_SIZE", cls.batch_size, maximum=10),
            visibility_s=visibility_s,
            heartbeat_s=env.number("WORKER_HEARTBEAT_S", visibility_s / 3, minimum=1),
            grace_s=env.number("WORKER_GRACE_S", cls.grace_s, minimum=1),
            health_port=env.integer("HEALTH_PORT", cls.health_port, minimum=0),
            metrics_namespace=env.text("POWERTOOLS_METRICS_NAMESPACE"),
            progress_interval_s=env.number(
                "PROGRESS_INTERVAL_S", cls.progress_interval_s, minimum=0
            ),
            unexpected_attempts=env.integer(
                "WORKER_UNEXPECTED_ATTEMPTS", cls.unexpected_attempts
            ),
            backoff_base_s=env.integer("WORKER_BACKOFF_BASE_S", cls.backoff_base_s, minimum=0),
            backoff_max_s=env.integer("WORKER_BACKOFF_MAX_S", cls.backoff_max_s, minimum=0),
            history_token_budget=env.integer(
                "HISTORY_TOKEN_BUDGET", cls.history_token_budget, minimum=0
            ),
            conversation_ttl_days=env.integer("CONVERSATION_TTL_DAYS", cls.conversation_ttl_days),
        )


@dataclass(frozen=True)
class WorkerSettings:
    """Everything `databot worker` (and `databot dev`'s worker) is built from."""

    channels: ChannelsConfig
    engine: EngineConfig = field(default_factory=EngineConfig)
    worker: WorkerConfig = field(default_factory=WorkerConfig)
    jobs: JobsConfig = field(default_factory=JobsConfig)
    conversations_table: str | None = None

    @classmethod
    def from_env(cls, env: Env) -> WorkerSettings:
        return cls(
            channels=ChannelsConfig.from_env(env),
            engine=EngineConfig.from_env(env),
            worker=WorkerConfig.from_env(env),
            jobs=JobsConfig.from_env(env),
            conversations_table=env.text("CONVERSATIONS_TABLE"),
        )
