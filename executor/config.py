"""The engine's settings, one small typed config per component (warehouse, model, artifacts,
sandbox), each handed to its own factory. `EngineConfig.from_env` reads them all: `databot
ask`, `sql`, `python` and the demo call it once, and the worker's settings compose it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path

from bot.config import ConfigError, Env
from executor.sample_data_dir import sample_data_dir
from executor.sandbox.limits import Limits

DEFAULT_INPUT = sample_data_dir()
DEFAULT_EVAL_QUESTIONS = DEFAULT_INPUT / "eval" / "questions.yaml"
# SigV4 presigned URLs live at most 7 days; S3 refuses a longer one only when it is used.
MAX_LINK_EXPIRY_S = 7 * 24 * 3600
SANDBOX_BACKENDS = ("local", "lambda")
DEFAULT_MODEL_IDS = (
    "us.anthropic.claude-sonnet-4-20250514-v1:0",
    "us.amazon.nova-pro-v1:0",
)
# Bedrock's processing tiers (Converse `serviceTier`): flex is cheaper and slower, for work
# nobody waits on such as evaluation runs; priority costs more and answers faster.
SERVICE_TIERS = ("default", "flex", "priority", "reserved")


@dataclass(frozen=True)
class WarehouseConfig:
    url: str = f"duckdb://{DEFAULT_INPUT}"
    schemas: tuple[str, ...] = ("public",)
    redshift_password: str | None = field(default=None, repr=False)
    redshift_secret_arn: str | None = None
    statement_timeout_s: int = 60
    # DuckDB spills to a private temp folder past this, so exports stay small in memory.
    duckdb_memory_limit: str = "128MB"
    # Table and column descriptions; None: the DuckDB folder's own schema.yaml if it has
    # one, else input/schema.yaml.
    schema_doc_path: Path | None = None
    region: str | None = None

    @classmethod
    def from_env(cls, env: Env, *, region: str | None) -> WarehouseConfig:
        schema_doc = env.text("SCHEMA_DOC")
        return cls(
            url=env.text("WAREHOUSE_URL", cls.url),
            schemas=env.items("WAREHOUSE_SCHEMAS") or cls.schemas,
            redshift_password=env.text("REDSHIFT_PASSWORD"),
            redshift_secret_arn=env.text("REDSHIFT_SECRET_ARN"),
            statement_timeout_s=env.integer("STATEMENT_TIMEOUT_S", cls.statement_timeout_s),
            duckdb_memory_limit=env.text("DUCKDB_MEMORY_LIMIT", cls.duckdb_memory_limit),
            schema_doc_path=Path(schema_doc) if schema_doc else None,
            region=region,
        )


@dataclass(frozen=True)
class ModelConfig:
    provider: str = "offline"
    model_ids: tuple[str, ...] = DEFAULT_MODEL_IDS
    # Agent budgets per job, and its self-correction and reflection steps.
    max_turns: int = 12
    max_total_tokens: int = 200_000
    max_seconds: float = 180.0
    sql_attempts: int = 3
    reflection: bool = True
    # (model id, USD per million input tokens, USD per million output tokens); these
    # override or extend the built-in table in executor/agent/pricing.py.
    prices: tuple[tuple[str, float, float], ...] = ()
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 120.0
    # Bedrock's service tier for every model call; None leaves it to Bedrock (default).
    service_tier: str | None = None
    region: str | None = None

    @classmethod
    def from_env(cls, env: Env, *, region: str | None) -> ModelConfig:
        default_provider = "bedrock" if aws_credentials_visible(env) else "offline"
        return cls(
            provider=env.text("MODEL_PROVIDER") or default_provider,
            model_ids=env.items("MODEL_IDS") or cls.model_ids,
            max_turns=env.integer("MAX_TURNS", cls.max_turns),
            max_total_tokens=env.integer("MAX_TOKENS", cls.max_total_tokens),
            max_seconds=env.number("MAX_SECONDS", cls.max_seconds),
            sql_attempts=env.integer("SQL_ATTEMPTS", cls.sql_attempts),
            reflection=env.flag("REFLECTION", cls.reflection),
            prices=_prices(env.text("MODEL_PRICES")),
            connect_timeout_s=env.number("BEDROCK_CONNECT_TIMEOUT_S", cls.connect_timeout_s),
            read_timeout_s=env.number("BEDROCK_READ_TIMEOUT_S", cls.read_timeout_s),
            service_tier=_service_tier(env),
            region=region,
        )


@dataclass(frozen=True)
class ArtifactsConfig:
    # S3 when set; else the local folder `results_dir`.
    bucket: str | None = None
    results_dir: Path = Path("results")
    # Presigned result links: 7 days by default, SigV4's maximum.
    link_expiry_s: int = MAX_LINK_EXPIRY_S
    # IAM role Redshift assumes to UNLOAD full results into the bucket.
    unload_role_arn: str | None = None
    region: str | None = None

    @classmethod
    def from_env(cls, env: Env, *, region: str | None) -> ArtifactsConfig:
        return cls(
            bucket=env.text("RESULTS_BUCKET"),
            results_dir=Path(env.text("RESULTS_DIR") or cls.results_dir),
            link_expiry_s=_link_expiry(env),
            unload_role_arn=env.text("UNLOAD_ROLE_ARN"),
            region=region,
        )


@dataclass(frozen=True)
class SandboxConfig:
    # "local" (a confined child process) or "lambda" (the function `function_name`).
    backend: str = "local"
    function_name: str | None = None
    # When the worker runs as root, the uid its sandboxed children switch to (unset: they
    # stay root without capabilities, allowed only under Landlock; see docs/sandbox.md).
    uid: int | None = None
    limits: Limits = field(default_factory=Limits)
    region: str | None = None

    @classmethod
    def from_env(cls, env: Env, *, region: str | None) -> SandboxConfig:
        """Checked at start-up: the sandbox is only opened on the first question that needs
        a model, too late to find a typo."""
        backend = env.choice("SANDBOX_BACKEND", SANDBOX_BACKENDS, cls.backend)
        function_name = env.text("SANDBOX_FUNCTION_NAME")
        if backend == "lambda" and function_name is None:
            raise ConfigError(
                "SANDBOX_BACKEND=lambda needs SANDBOX_FUNCTION_NAME, the function to run"
            )
        return cls(
            backend=backend,
            function_name=function_name,
            uid=env.integer("SANDBOX_UID", None, minimum=0),
            limits=_limits(env),
            region=region,
        )


@dataclass(frozen=True)
class VerifiedConfig:
    """Where entries verified from chat are kept (executor/verified/store.py), and how
    often a running engine reads them again."""

    # VERIFIED_TABLE (DynamoDB) when set; else the YAML file `path` in the results folder.
    table: str | None = None
    path: Path = Path("results") / "verified_entries.yaml"
    # A new or retired entry is served at most this long after it is stored.
    reload_interval_s: float = 30.0
    # The questions a new entry must not answer differently (docs/verified.md).
    eval_questions: Path = DEFAULT_EVAL_QUESTIONS
    region: str | None = None

    @classmethod
    def from_env(cls, env: Env, *, results_dir: Path, region: str | None) -> VerifiedConfig:
        return cls(
            table=env.text("VERIFIED_TABLE"),
            path=results_dir / "verified_entries.yaml",
            reload_interval_s=env.number("VERIFIED_RELOAD_S", cls.reload_interval_s,
                                         minimum=1, maximum=60),
            region=region,
        )


@dataclass(frozen=True)
class AuditConfig:
    """The audit trail's JSON lines (executor/governance/audit_trail.py): under `prefix` in
    this bucket, else in RESULTS_BUCKET, else in the results folder's audit/; written this
    often, or at once when `batch_records` are waiting."""

    bucket: str | None = None
    prefix: str = "audit/"
    flush_s: float = 5.0
    batch_records: int = 500

    @classmethod
    def from_env(cls, env: Env) -> AuditConfig:
        prefix = env.text("AUDIT_PREFIX", cls.prefix).strip("/")
        return cls(
            bucket=env.text("AUDIT_BUCKET"),
            prefix=f"{prefix}/" if prefix else "",
            flush_s=env.number("AUDIT_FLUSH_S", cls.flush_s),
            batch_records=env.integer("AUDIT_BATCH_RECORDS", cls.batch_records),
        )


@dataclass(frozen=True)
class EngineConfig:
    """Everything the engine and its tools are built from."""

    warehouse: WarehouseConfig = field(default_factory=WarehouseConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    artifacts: ArtifactsConfig = field(default_factory=ArtifactsConfig)
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)
    verified: VerifiedConfig = field(default_factory=VerifiedConfig)
    audit: AuditConfig = field(default_factory=AuditConfig)
    region: str | None = None

    @classmethod
    def from_env(cls, env: Env) -> EngineConfig:
        region = env.aws_region()
        artifacts = ArtifactsConfig.from_env(env, region=region)
        return cls(
            warehouse=WarehouseConfig.from_env(env, region=region),
            model=ModelConfig.from_env(env, region=region),
            artifacts=artifacts,
            sandbox=SandboxConfig.from_env(env, region=region),
            verified=VerifiedConfig.from_env(env, results_dir=artifacts.results_dir,
                                             region=region),
            audit=AuditConfig.from_env(env),
            region=region,
        )


def _link_expiry(env: Env) -> int:
    seconds = env.integer("RESULTS_LINK_EXPIRY_S", MAX_LINK_EXPIRY_S)
    if seconds > MAX_LINK_EXPIRY_S:
        raise ConfigError(
            f"RESULTS_LINK_EXPIRY_S must be at most {MAX_LINK_EXPIRY_S} (7 days, the longest "
            f"a presigned link can live), got {seconds}"
        )
    return seconds


def _limits(env: Env) -> Limits:
    """The default limits, each overridden by SANDBOX_<NAME upper-cased>."""
    defaults = Limits()
    values: dict[str, float] = {}
    for limit in fields(Limits):
        name, default = f"SANDBOX_{limit.name.upper()}", getattr(defaults, limit.name)
        values[limit.name] = (
            env.number(name, default) if isinstance(default, float) else env.integer(name, default)
        )
    return Limits.from_dict(values)


def _service_tier(env: Env) -> str | None:
    tier = env.text("MODEL_SERVICE_TIER")
    if tier is not None and tier not in SERVICE_TIERS:
        raise ConfigError(
            f"MODEL_SERVICE_TIER must be one of {', '.join(SERVICE_TIERS)}, got {tier!r}"
        )
    return tier


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
        raise ConfigError(
            f"MODEL_PRICES must map model ids to USD per million input and output tokens, "
            f"{example}: {e!r}"
        ) from e


def aws_credentials_visible(env: Env) -> bool:
    """Whether AWS credentials are visible without a network call (then Bedrock is the
    default model provider)."""
    return any((
        env.text("AWS_ACCESS_KEY_ID") and env.text("AWS_SECRET_ACCESS_KEY"),
        env.text("AWS_PROFILE"),
        env.text("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"),
        env.text("AWS_CONTAINER_CREDENTIALS_FULL_URI"),
        env.text("AWS_WEB_IDENTITY_TOKEN_FILE"),
    ))
