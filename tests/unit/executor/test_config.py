"""The engine's settings: defaults, overrides and the provider choice."""

from pathlib import Path

import pytest

from bot.config import ConfigError, Env
from executor.config import DEFAULT_INPUT, EngineConfig
from executor.warehouse.cost import CostLimits


def config(env: dict[str, str]) -> EngineConfig:
    return EngineConfig.from_env(Env(env))


def test_defaults_are_the_embedded_ones() -> None:
    settings = config({})
    assert settings.warehouse.url == f"duckdb://{DEFAULT_INPUT}"
    assert settings.model.provider == "offline"
    assert settings.artifacts.bucket is None
    assert settings.artifacts.results_dir == Path("results")
    assert (settings.sandbox.backend, settings.sandbox.uid) == ("local", None)
    assert settings.region is None


def test_environment_overrides() -> None:
    settings = config({
        "WAREHOUSE_URL": "redshift://bot@example:5439/dev",
        "MODEL_IDS": "a, b ,,c",
        "RESULTS_BUCKET": "bucket",
        "WAREHOUSE_SCHEMAS": "analytics,public",
        "SANDBOX_UID": "65534",
        "SANDBOX_WALL_SECONDS": "5",
        "SANDBOX_MEMORY_BYTES": "1048576",
    })
    assert settings.warehouse.url == "redshift://bot@example:5439/dev"
    assert settings.model.model_ids == ("a", "b", "c")
    assert settings.artifacts.bucket == "bucket"
    assert settings.warehouse.schemas == ("analytics", "public")
    assert settings.sandbox.uid == 65534
    assert (settings.sandbox.limits.wall_seconds, settings.sandbox.limits.memory_bytes) == (
        5.0, 1048576
    )


def test_the_cost_limits_are_unset_unless_given() -> None:
    assert config({}).warehouse.cost_limits == CostLimits()
    assert not config({"MAX_QUERY_COST": "", "MAX_SCAN_ROWS": ""}).warehouse.cost_limits.any
    limits = config({"MAX_QUERY_COST": "2.5e9", "MAX_SCAN_ROWS": "50000000"}).warehouse.cost_limits
    assert limits == CostLimits(max_cost=2.5e9, max_scan_rows=50_000_000)


def test_the_region_is_read_once_and_given_to_every_component() -> None:
    settings = config({"AWS_DEFAULT_REGION": "eu-west-1"})
    assert settings.region == "eu-west-1"
    parts = (settings.warehouse, settings.model, settings.artifacts, settings.sandbox)
    assert {part.region for part in parts} == {"eu-west-1"}
    assert config({"AWS_REGION": "us-east-2", "AWS_DEFAULT_REGION": "eu-west-1"}
                  ).region == "us-east-2"


def test_bedrock_is_chosen_when_credentials_are_visible() -> None:
    assert config({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"}
                  ).model.provider == "bedrock"
    assert config({"AWS_ACCESS_KEY_ID": "x"}).model.provider == "offline"
    assert config({"AWS_PROFILE": "dev"}).model.provider == "bedrock"
    assert config({"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/x"}
                  ).model.provider == "bedrock"
    assert config({"AWS_PROFILE": "dev", "MODEL_PROVIDER": "offline"}
                  ).model.provider == "offline"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("STATEMENT_TIMEOUT_S", "1m", "STATEMENT_TIMEOUT_S must be a whole number >= 1, got '1m'"),
        ("STATEMENT_TIMEOUT_S", "0", "STATEMENT_TIMEOUT_S must be a whole number >= 1, got '0'"),
        ("RESULTS_LINK_EXPIRY_S", "-1",
         "RESULTS_LINK_EXPIRY_S must be a whole number >= 1, got '-1'"),
        ("RESULTS_LINK_EXPIRY_S", "604801", "RESULTS_LINK_EXPIRY_S must be at most 604800"),
        ("SANDBOX_CPU_SECONDS", "lots",
         "SANDBOX_CPU_SECONDS must be a whole number >= 1, got 'lots'"),
        ("SANDBOX_WALL_SECONDS", "0", "SANDBOX_WALL_SECONDS must be a number above 0, got '0'"),
        ("SANDBOX_UID", "-1", "SANDBOX_UID must be a whole number >= 0, got '-1'"),
        ("MAX_QUERY_COST", "cheap", "MAX_QUERY_COST must be a number >= 0, got 'cheap'"),
        ("MAX_QUERY_COST", "-1", "MAX_QUERY_COST must be a number >= 0, got '-1'"),
        ("MAX_SCAN_ROWS", "1e6", "MAX_SCAN_ROWS must be a whole number >= 0, got '1e6'"),
        ("MAX_SCAN_ROWS", "-5", "MAX_SCAN_ROWS must be a whole number >= 0, got '-5'"),
    ],
)
def test_bad_numbers_are_refused_by_name(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config({name: value})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SANDBOX_BACKEND": "lamda"}, "SANDBOX_BACKEND must be one of local, lambda, got 'lamda'"),
        ({"SANDBOX_BACKEND": "lambda"}, "SANDBOX_BACKEND=lambda needs SANDBOX_FUNCTION_NAME"),
    ],
)
def test_a_wrong_sandbox_backend_is_refused_at_start_up(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config(env)


def test_the_lambda_sandbox_takes_its_function_name() -> None:
    sandbox = config({"SANDBOX_BACKEND": "lambda", "SANDBOX_FUNCTION_NAME": "box"}).sandbox
    assert (sandbox.backend, sandbox.function_name) == ("lambda", "box")


def test_a_shorter_link_expiry_is_kept() -> None:
    assert config({"RESULTS_LINK_EXPIRY_S": "3600"}).artifacts.link_expiry_s == 3600


def test_the_bedrock_service_tier_is_optional_and_checked() -> None:
    assert config({}).model.service_tier is None
    assert config({"MODEL_SERVICE_TIER": "flex"}).model.service_tier == "flex"
    with pytest.raises(ConfigError, match="MODEL_SERVICE_TIER must be one of default, flex, "
                                          "priority, reserved, got 'cheap'"):
        config({"MODEL_SERVICE_TIER": "cheap"})
def test_verified_entries_are_kept_in_the_results_folder_unless_a_table_is_named() -> None:
    local = EngineConfig.from_env(Env({"RESULTS_DIR": "/tmp/out"})).verified
    assert local.table is None and local.path == Path("/tmp/out/verified_entries.yaml")
    assert local.reload_interval_s == 30.0
    table = EngineConfig.from_env(Env({"VERIFIED_TABLE": "databot-verified",
                                       "VERIFIED_RELOAD_S": "10"})).verified
    assert (table.table, table.reload_interval_s) == ("databot-verified", 10.0)


def test_a_reload_interval_past_a_minute_is_refused() -> None:
    # New entries must be served within 60 s.
    with pytest.raises(ConfigError, match="VERIFIED_RELOAD_S must be a number"):
        EngineConfig.from_env(Env({"VERIFIED_RELOAD_S": "90"}))


def test_spend_limits_are_unset_by_default_and_counted_without_a_table() -> None:
    budgets = config({"RESULTS_DIR": "/tmp/r"}).budgets
    assert budgets.table is None
    assert (budgets.user_daily_usd, budgets.user_monthly_usd, budgets.channel_daily_usd,
            budgets.channel_monthly_usd, budgets.overrides_file) == (None,) * 5


def test_spend_limits_are_read_in_dollars() -> None:
    budgets = config({
        "USAGE_TABLE": "usage", "USER_DAILY_BUDGET_USD": "1.5", "USER_MONTHLY_BUDGET_USD": "20",
        "CHANNEL_DAILY_BUDGET_USD": "0", "CHANNEL_MONTHLY_BUDGET_USD": "100",
        "BUDGET_OVERRIDES_FILE": "budgets.yaml", "BUDGET_CALL_ESTIMATE_USD": "0.2",
    }).budgets
    assert budgets.table == "usage"
    assert (budgets.user_daily_usd, budgets.user_monthly_usd, budgets.channel_daily_usd,
            budgets.channel_monthly_usd) == (1.5, 20.0, 0.0, 100.0)
    assert budgets.overrides_file == Path("budgets.yaml") and budgets.call_estimate_usd == 0.2


@pytest.mark.parametrize("name", ["USER_DAILY_BUDGET_USD", "USER_MONTHLY_BUDGET_USD",
                                  "CHANNEL_DAILY_BUDGET_USD", "CHANNEL_MONTHLY_BUDGET_USD"])
@pytest.mark.parametrize("value", ["ten", "-1", "nan"])
def test_a_spend_limit_that_is_not_a_number_of_dollars_is_refused_by_name(
    name: str, value: str,
) -> None:
    with pytest.raises(ConfigError, match=f"{name} must be a number >= 0, got '{value}'"):
        config({name: value})


@pytest.mark.parametrize("value", ["0", "-0.1", "cheap"])
def test_the_call_estimate_must_be_above_zero(value: str) -> None:
    with pytest.raises(ConfigError, match=f"BUDGET_CALL_ESTIMATE_USD must be a number above 0, "
                                          f"got '{value}'"):
        config({"BUDGET_CALL_ESTIMATE_USD": value})
def test_the_identity_mode_is_service_unless_per_user_is_asked_for() -> None:
    assert EngineConfig.from_env(Env({})).identity.mode == "service"
    identity = EngineConfig.from_env(Env({
        "IDENTITY_MODE": "per_user", "IDENTITY_MAP": "email_local:db_,U0001=db_ana",
        "IDENTITY_DB_GROUPS": "analysts, readers", "IDENTITY_CREDENTIALS_S": "1800",
        "IDENTITY_MAX_OPEN": "4", "IDENTITY_IDLE_S": "120", "IDENTITY_CONNECTIONS": "3",
    })).identity
    assert identity.mode == "per_user" and identity.identities is not None
    assert identity.identities.explicit == {"U0001": "db_ana"}
    assert identity.db_groups == ("analysts", "readers")
    assert (identity.credentials_s, identity.max_open, identity.idle_s,
            identity.connections) == (1800, 4, 120, 3)


@pytest.mark.parametrize(("env", "message"), [
    ({"IDENTITY_MODE": "per_person"}, "IDENTITY_MODE must be one of service, per_user"),
    ({"IDENTITY_MODE": "per_user"}, "IDENTITY_MODE=per_user needs IDENTITY_MAP"),
    ({"IDENTITY_MODE": "per_user", "IDENTITY_MAP": "U1=Bad Name"}, "IDENTITY_MAP"),
    ({"IDENTITY_CREDENTIALS_S": "7200"}, "IDENTITY_CREDENTIALS_S must be"),
    ({"IDENTITY_CONNECTIONS": "20"}, "IDENTITY_CONNECTIONS must be"),
])  # fmt: skip
def test_identity_settings_are_checked_at_start_up(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        EngineConfig.from_env(Env(env))
