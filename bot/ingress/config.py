"""The shared ingress's settings (Slack events and the prompt API): where jobs go, the
idempotency table and its timings, and the size limits on what is asked."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.config import Env
from bot.job_store import JobsConfig


@dataclass(frozen=True)
class IngressConfig:
    jobs: JobsConfig = field(default_factory=JobsConfig)
    idempotency_table: str | None = None
    max_question_chars: int = 4000
    max_body_bytes: int = 16 * 1024
    # Slack retries for about five minutes; an hour covers them with room to spare.
    idempotency_ttl_s: int = 3600
    # A claim older than this is taken to be from an invocation that died (Lambda timeout).
    in_progress_expiry_s: int = 30

    @classmethod
    def from_env(cls, env: Env) -> IngressConfig:
        return cls(
            jobs=JobsConfig.from_env(env),
            idempotency_table=env.text("IDEMPOTENCY_TABLE"),
            max_question_chars=env.integer("MAX_QUESTION_CHARS", cls.max_question_chars),
            max_body_bytes=env.integer("MAX_BODY_BYTES", cls.max_body_bytes),
            idempotency_ttl_s=env.integer("IDEMPOTENCY_TTL_S", cls.idempotency_ttl_s),
            in_progress_expiry_s=env.integer("IN_PROGRESS_EXPIRY_S", cls.in_progress_expiry_s),
        )
