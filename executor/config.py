"""The engine's settings, one small typed config per component (warehouse, model, artifacts,
sandbox), each handed to its own factory. `EngineConfig.from_env` reads them all: `databot
ask`, `sql`, `python` and the demo call it once, and the worker's settings compose it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path

from bot.config import ConfigError, Env
from executor.governance.identity import IdentityMap
from executor.sample_data_dir import sample_data_dir
from executor.sandbox.limits import Limits
from executor.warehouse.cost import CostLimits

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
# PROMPT_CACHE: "auto" puts cache points in the requests of models that support prompt
# caching (executor/agent/caching.py); "off" sends none.
PROMPT_CACHE_MODES = ("auto", "off")
IDENTITY_MODES = ("service", "per_user")
# GetClusterCredentials' DurationSeconds bounds.
CREDENTIALS_MIN_S, CREDENTIALS_MAX_S = 900, 3600
# WAREHOUSE_URL's schemes.
DUCKDB_PREFIX = "duckdb://"
REDSHIFT_PREFIX = "redshift://"


@dataclass(frozen=True)
class WarehouseConfig:
    url: str = f"{DUCKDB_PREFIX}{DEFAULT_INPUT}"
    schemas: tuple[str, ...] = ("public",)
    redshift_password: str | None = field(default=None, repr=False)
    redshift_secret_arn: str | None = None
    statement_timeout_s: int = 60
    # DuckDB spills to a private temp folder past this, so exports stay small in memory.
    duckdb_memory_limit: str = "128MB"
    # Table and column descriptions; None: the DuckDB folder's own schema.yaml if it has
    # one, else input/schema.yaml.
    schema_doc_path: Path | None = None
    # The cost guard's limits on a statement's plan; unset: none, and no EXPLAIN is asked.
    cost_limits: CostLimits = field(default_factory=CostLimits)
    region: str | None = None

    @property
    def is_duckdb(self) -> bool:
        return self.url.startswith(DUCKDB_PREFIX)

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
            cost_limits=CostLimits(
                max_cost=(
                    env.number("MAX_QUERY_COST", 0.0, minimum=0)
                    if env.text("MAX_QUERY_COST") is not None
                    else None
                ),
                max_scan_rows=env.integer("MAX_SCAN_ROWS", None, minimum=0),
            ),
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
    # (model id, USD per million input, output, cache read and cache write tokens; a cache
    # rate None is the input rate); these override or extend the built-in table in
    # executor/agent/pricing.py.
    prices: tuple[tuple[str, float, float, float | None, float | None], ...] = ()
    # Prompt caching on Bedrock, and (model id, minimum tokens per cache checkpoint)
    # overriding or extending the built-in table in executor/agent/caching.py.
    prompt_cache: bool = True
    cache_models: tuple[tuple[str, int], ...] = ()
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
            prompt_cache=env.choice("PROMPT_CACHE", PROMPT_CACHE_MODES, "auto") == "auto",
            cache_models=_cache_models(env.items("PROMPT_CACHE_MODELS")),
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
    # Local runs are forked from a template process with pandas, scikit-learn and
    # matplotlib already imported (docs/sandbox.md); False starts a fresh interpreter each.
    warm: bool = True
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
            warm=env.flag("SANDBOX_WARM", cls.warm),
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
class BudgetsConfig:
    """Spend limits per person and per channel, and where spend is counted
    (executor/governance/budgets.py)."""

    # USAGE_TABLE (DynamoDB) when set; else a SQLite file in the results folder
    # (executor/governance/budgets.py open_ledger).
    table: str | None = None
    # USD; None: no limit.
    user_daily_usd: float | None = None
    user_monthly_usd: float | None = None
    channel_daily_usd: float | None = None
    channel_monthly_usd: float | None = None
    # YAML file of per-person and per-channel limits that replace the ones above.
    overrides_file: Path | None = None
    # What a model call is assumed to cost until the answer's previous call says better:
    # the amount reserved before each call.
    call_estimate_usd: float = 0.05
    region: str | None = None

    @classmethod
    def from_env(cls, env: Env, *, region: str | None) -> BudgetsConfig:
        overrides = env.text("BUDGET_OVERRIDES_FILE")
        return cls(
            table=env.text("USAGE_TABLE"),
            user_daily_usd=_usd(env, "USER_DAILY_BUDGET_USD"),
            user_monthly_usd=_usd(env, "USER_MONTHLY_BUDGET_USD"),
            channel_daily_usd=_usd(env, "CHANNEL_DAILY_BUDGET_USD"),
            channel_monthly_usd=_usd(env, "CHANNEL_MONTHLY_BUDGET_USD"),
            overrides_file=Path(overrides) if overrides else None,
            call_estimate_usd=env.number("BUDGET_CALL_ESTIMATE_USD", cls.call_estimate_usd),
            region=region,
        )


@dataclass(frozen=True)
class IdentityConfig:
    """Whose database identity a question runs as (docs/identity.md)."""

    # "service": the worker's one database user for everyone; "per_user": the asker's own.
    mode: str = "service"
    identities: IdentityMap | None = None
    # Database groups the per-user logins join for their session (GetClusterCredentials).
    db_groups: tuple[str, ...] = ()
    # How long IAM's temporary per-user credentials last (900 to 3600 s).
    credentials_s: int = CREDENTIALS_MIN_S
    # People whose warehouses (connections and catalog) stay open at once, and how long an
    # idle one stays open.
    max_open: int = 16
    idle_s: float = 600.0
    # Query connections each person's warehouse may hold at once.
    connections: int = 2

    @classmethod
    def from_env(cls, env: Env) -> IdentityConfig:
        mode = env.choice("IDENTITY_MODE", IDENTITY_MODES, cls.mode)
        text = env.text("IDENTITY_MAP")
        if mode == "per_user" and text is None:
            raise ConfigError("IDENTITY_MODE=per_user needs IDENTITY_MAP, how a person maps "
                              "to a database user")
        return cls(
            mode=mode,
            identities=IdentityMap.parse(text) if text else None,
            db_groups=env.items("IDENTITY_DB_GROUPS"),
            credentials_s=env.integer("IDENTITY_CREDENTIALS_S", cls.credentials_s,
                                      minimum=CREDENTIALS_MIN_S, maximum=CREDENTIALS_MAX_S),
            max_open=env.integer("IDENTITY_MAX_OPEN", cls.max_open),
            idle_s=env.number("IDENTITY_IDLE_S", cls.idle_s),
            connections=env.integer("IDENTITY_CONNECTIONS", cls.connections, maximum=8),
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
    budgets: BudgetsConfig = field(default_factory=BudgetsConfig)
    identity: IdentityConfig = field(default_factory=IdentityConfig)
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
            budgets=BudgetsConfig.from_env(env, region=region),
            identity=IdentityConfig.from_env(env),
            audit=AuditConfig.from_env(env),
            region=region,
        )


def _usd(env: Env, name: str) -> float | None:
    """A limit in USD, 0 or more; None when unset."""
    if env.text(name) is None:
        return None
    return env.number(name, 0.0, minimum=0)


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


def _prices(value: str | None) -> tuple[tuple[str, float, float, float | None, float | None],
                                         ...]:
    """MODEL_PRICES: {"model-id": {"input": 3.0, "output": 15.0, "cache_read": 0.3,
    "cache_write": 3.75}, ...}, USD per million tokens; the cache rates are optional."""
    if not value:
        return ()
    example = 'e.g. {"us.amazon.nova-pro-v1:0": {"input": 0.8, "output": 3.2}}'

    def rate(price: dict[str, float], name: str) -> float | None:
        given = price.get(name)
        return None if given is None else float(given)

    try:
        data = json.loads(value)
        return tuple(
            (str(model), float(price["input"]), float(price["output"]),
             rate(price, "cache_read"), rate(price, "cache_write"))
            for model, price in data.items()
        )
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise ConfigError(
            f"MODEL_PRICES must map model ids to USD per million input and output tokens "
            f"(and optionally cache_read and cache_write), {example}: {e!r}"
        ) from e


def _cache_models(items: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    """PROMPT_CACHE_MODELS: `model-id=min_tokens` pairs, comma-separated; 0 turns a model's
    prompt caching off."""
    models = []
    for item in items:
        model_id, _, tokens = item.rpartition("=")
        if not model_id.strip() or not tokens.strip().isdigit():
            raise ConfigError(
                f"PROMPT_CACHE_MODELS must list model-id=min_tokens pairs, e.g. "
                f"us.amazon.nova-pro-v1:0=1000, got {item!r}"
            )
        models.append((model_id.strip(), int(tokens)))
    return tuple(models)


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
