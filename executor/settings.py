"""The worker's and CLI's settings, read from the environment in this one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INPUT = REPO_ROOT / "input"
DEFAULT_MODEL_IDS = (
    "us.anthropic.claude-sonnet-4-20250514-v1:0",
    "us.amazon.nova-pro-v1:0",
)


@dataclass(frozen=True)
class Settings:
    warehouse_url: str = f"duckdb://{DEFAULT_INPUT}"
    warehouse_schemas: tuple[str, ...] = ("public",)
    redshift_password: str | None = None
    redshift_secret_arn: str | None = None
    statement_timeout_s: int = 60
    model_provider: str = "offline"
    model_ids: tuple[str, ...] = DEFAULT_MODEL_IDS
    aws_region: str | None = None
    results_bucket: str | None = None
    results_dir: Path = Path("results")
    slack_api_url: str = "https://slack.com/api/"
    slack_bot_token: str | None = None
    jobs_queue_url: str | None = None
    jobs_table: str | None = None
    conversations_table: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        defaults = cls()
        return cls(
            warehouse_url=env.get("WAREHOUSE_URL") or defaults.warehouse_url,
            warehouse_schemas=_csv(env.get("WAREHOUSE_SCHEMAS")) or defaults.warehouse_schemas,
            redshift_password=env.get("REDSHIFT_PASSWORD") or None,
            redshift_secret_arn=env.get("REDSHIFT_SECRET_ARN") or None,
            statement_timeout_s=int(env.get("STATEMENT_TIMEOUT_S") or defaults.statement_timeout_s),
            model_provider=env.get("MODEL_PROVIDER") or _default_provider(env),
            model_ids=_csv(env.get("MODEL_IDS")) or defaults.model_ids,
            aws_region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
            results_bucket=env.get("RESULTS_BUCKET") or None,
            results_dir=Path(env.get("RESULTS_DIR") or defaults.results_dir),
            slack_api_url=env.get("SLACK_API_URL") or defaults.slack_api_url,
            slack_bot_token=env.get("SLACK_BOT_TOKEN") or None,
            jobs_queue_url=env.get("JOBS_QUEUE_URL") or None,
            jobs_table=env.get("JOBS_TABLE") or None,
            conversations_table=env.get("CONVERSATIONS_TABLE") or None,
        )


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _default_provider(env: Mapping[str, str]) -> str:
    """Bedrock when AWS credentials are visible without a network call, else offline."""
    has_keys = bool(env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"))
    has_profile = bool(env.get("AWS_PROFILE"))
    has_container_creds = bool(
        env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        or env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        or env.get("AWS_WEB_IDENTITY_TOKEN_FILE")
    )
    return "bedrock" if has_keys or has_profile or has_container_creds else "offline"
