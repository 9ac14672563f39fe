"""The worker's and CLI's settings, read from the environment in this one place."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from executor.sample_data_dir import sample_data_dir
from executor.sandbox.limits import Limits

Number = TypeVar("Number", int, float)

DEFAULT_INPUT = sample_data_dir()
# SigV4 presigned URLs live at most 7 days; S3 refuses a longer one only when it is used.
MAX_LINK_EXPIRY_S = 7 * 24 * 3600
SANDBOX_BACKENDS = ("local", "lambda")
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
    # DuckDB spills to a private temp folder past this, so exports stay small in memory.
    duckdb_memory_limit: str = "128MB"
    # Table and column descriptions; None: the DuckDB folder's own schema.yaml if it has
    # one, else input/schema.yaml.
    schema_doc_path: Path | None = None
    model_provider: str = "offline"
    model_ids: tuple[str, ...] = DEFAULT_MODEL_IDS
    # Agent budgets per job, and its self-correction and reflection steps.
    max_turns: int = 12
    max_total_tokens: int = 200_000
    max_seconds: float = 180.0
    sql_attempts: int = 3
    reflection: bool = True
    # (model id, USD per million input tokens, USD per million output tokens); these
    # override or extend the built-in table in executor/agent/pricing.py.
    model_prices: tuple[tuple[str, float, float], ...] = ()
    bedrock_connect_timeout_s: float = 5.0
    bedrock_read_timeout_s: float = 120.0
    aws_region: str | None = None
    results_bucket: str | None = None
    results_dir: Path = Path("results")
    # Presigned result links: 7 days by default, SigV4's maximum.
    results_link_expiry_s: int = MAX_LINK_EXPIRY_S
    # IAM role Redshift assumes to UNLOAD full results into RESULTS_BUCKET.
    unload_role_arn: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_bot_token: str | None = None
    # Secrets Manager secret holding SLACK_BOT_TOKEN, when the token is not set itself.
    slack_secret_arn: str | None = None
    jobs_queue_url: str | None = None
    jobs_table: str | None = None
    conversations_table: str | None = None
    # Python sandbox: "local" (a confined child process) or "lambda" (SANDBOX_FUNCTION_NAME).
    sandbox_backend: str = "local"
    sandbox_function_name: str | None = None
    # When the worker runs as root, the uid its sandboxed children switch to (unset: they
    # stay root without capabilities, allowed only under Landlock; see docs/sandbox.md).
    sandbox_uid: int | None = None
    sandbox_limits: Limits = field(default_factory=Limits)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        defaults = cls()
        sandbox_backend, sandbox_function_name = _sandbox(env, defaults.sandbox_backend)
        return cls(
            warehouse_url=env.get("WAREHOUSE_URL") or defaults.warehouse_url,
            warehouse_schemas=_csv(env.get("WAREHOUSE_SCHEMAS")) or defaults.warehouse_schemas,
            redshift_password=env.get("REDSHIFT_PASSWORD") or None,
            redshift_secret_arn=env.get("REDSHIFT_SECRET_ARN") or None,
            statement_timeout_s=_positive(env, "STATEMENT_TIMEOUT_S", defaults.statement_timeout_s),
            schema_doc_path=Path(env["SCHEMA_DOC"]) if env.get("SCHEMA_DOC") else None,
            duckdb_memory_limit=env.get("DUCKDB_MEMORY_LIMIT") or defaults.duckdb_memory_limit,
            model_provider=env.get("MODEL_PROVIDER") or _default_provider(env),
            model_ids=_csv(env.get("MODEL_IDS")) or defaults.model_ids,
            max_turns=_positive(env, "MAX_TURNS", defaults.max_turns),
            max_total_tokens=_positive(env, "MAX_TOKENS", defaults.max_total_tokens),
            max_seconds=_positive(env, "MAX_SECONDS", defaults.max_seconds),
            sql_attempts=_positive(env, "SQL_ATTEMPTS", defaults.sql_attempts),
            reflection=_flag(env, "REFLECTION", defaults.reflection),
            model_prices=_prices(env.get("MODEL_PRICES")),
            bedrock_connect_timeout_s=_positive(
                env, "BEDROCK_CONNECT_TIMEOUT_S", defaults.bedrock_connect_timeout_s
            ),
            bedrock_read_timeout_s=_positive(
                env, "BEDROCK_READ_TIMEOUT_S", defaults.bedrock_read_timeout_s
            ),
            aws_region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
            results_bucket=env.get("RESULTS_BUCKET") or None,
            results_dir=Path(env.get("RESULTS_DIR") or defaults.results_dir),
            results_link_expiry_s=_link_expiry(env),
            unload_role_arn=env.get("UNLOAD_ROLE_ARN") or None,
            slack_api_url=env.get("SLACK_API_URL") or defaults.slack_api_url,
            slack_bot_token=env.get("SLACK_BOT_TOKEN") or None,
            slack_secret_arn=env.get("SLACK_SECRET_ARN") or None,
            jobs_queue_url=env.get("JOBS_QUEUE_URL") or None,
            jobs_table=env.get("JOBS_TABLE") or None,
            conversations_table=env.get("CONVERSATIONS_TABLE") or None,
            sandbox_backend=sandbox_backend,
            sandbox_function_name=sandbox_function_name,
            sandbox_uid=int(env["SANDBOX_UID"]) if env.get("SANDBOX_UID") else None,
            sandbox_limits=Limits.from_env(env),
        )


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _positive(env: Mapping[str, str], name: str, default: Number) -> Number:
    """A positive number of the default's type (int or float), named when it is not one."""
    value = env.get(name)
    if not value:
        return default
    try:
        number = type(default)(value)
    except ValueError:
        number = None
    if number is None or number <= 0:
        kind = "a whole number" if isinstance(default, int) else "a number"
        raise ValueError(f"{name} must be {kind} above 0, not {value!r}")
    return number


def _link_expiry(env: Mapping[str, str]) -> int:
    seconds = _positive(env, "RESULTS_LINK_EXPIRY_S", MAX_LINK_EXPIRY_S)
    if seconds > MAX_LINK_EXPIRY_S:
        raise ValueError(
            f"RESULTS_LINK_EXPIRY_S must be at most {MAX_LINK_EXPIRY_S} (7 days, the longest "
            f"a presigned link can live), not {seconds}"
        )
    return seconds


def _sandbox(env: Mapping[str, str], default: str) -> tuple[str, str | None]:
    """SANDBOX_BACKEND and SANDBOX_FUNCTION_NAME, checked at start-up: the sandbox is only
    opened on the first question that needs a model, too late to find a typo."""
    backend = env.get("SANDBOX_BACKEND") or default
    function_name = env.get("SANDBOX_FUNCTION_NAME") or None
    if backend not in SANDBOX_BACKENDS:
        raise ValueError(
            f"SANDBOX_BACKEND must be one of {', '.join(SANDBOX_BACKENDS)}, not {backend!r}"
        )
    if backend == "lambda" and function_name is None:
        raise ValueError("SANDBOX_BACKEND=lambda needs SANDBOX_FUNCTION_NAME, the function to run")
    return backend, function_name


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = (env.get(name) or "").strip().lower()
    if not value:
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be true or false, not {value!r}")


def _prices(value: str | None) -> tuple[tuple[str, float, float], ...]:
    """MODEL_PRICES: {"model-id": {"input": 3.0, "output": 15.0}, ...}, USD per million tokens."""
    if not value:
        return ()
    example = 'e.g. {"us.amazon.nova-pro-v1:0": {"input": 0.8, "output": 3.2}}'
    try:
        data = json.loads(value)
        return tuple(
            (str(model), float(price["input"]), float(price["output"]))
            for model, price in data.items()
        )
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise ValueError(
            f"MODEL_PRICES must map model ids to USD per million input and output tokens, "
            f"{example}: {e!r}"
        ) from e


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
