"""Worker settings: defaults, overrides and the provider choice."""

from pathlib import Path

import pytest

from executor.settings import DEFAULT_INPUT, Settings


def test_defaults_are_the_embedded_ones() -> None:
    settings = Settings.from_env({})
    assert settings.warehouse_url == f"duckdb://{DEFAULT_INPUT}"
    assert settings.model_provider == "offline"
    assert settings.results_bucket is None
    assert settings.results_dir == Path("results")


def test_environment_overrides() -> None:
    settings = Settings.from_env({
        "WAREHOUSE_URL": "redshift://bot@example:5439/dev",
        "MODEL_IDS": "a, b ,,c",
        "RESULTS_BUCKET": "bucket",
        "WAREHOUSE_SCHEMAS": "analytics,public",
    })
    assert settings.warehouse_url == "redshift://bot@example:5439/dev"
    assert settings.model_ids == ("a", "b", "c")
    assert settings.results_bucket == "bucket"
    assert settings.warehouse_schemas == ("analytics", "public")


def test_bedrock_is_chosen_when_credentials_are_visible() -> None:
    assert Settings.from_env({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"}
                             ).model_provider == "bedrock"
    assert Settings.from_env({"AWS_PROFILE": "dev"}).model_provider == "bedrock"
    assert Settings.from_env({"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/x"}
                             ).model_provider == "bedrock"
    assert Settings.from_env({"AWS_PROFILE": "dev", "MODEL_PROVIDER": "offline"}
                             ).model_provider == "offline"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("STATEMENT_TIMEOUT_S", "1m", "STATEMENT_TIMEOUT_S must be a whole number above 0, not"),
        ("STATEMENT_TIMEOUT_S", "0", "STATEMENT_TIMEOUT_S must be a whole number above 0"),
        ("RESULTS_LINK_EXPIRY_S", "-1", "RESULTS_LINK_EXPIRY_S must be a whole number above 0"),
        ("RESULTS_LINK_EXPIRY_S", "604801", "RESULTS_LINK_EXPIRY_S must be at most 604800"),
    ],
)
def test_bad_numbers_are_refused_by_name(name: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.from_env({name: value})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SANDBOX_BACKEND": "lamda"}, "SANDBOX_BACKEND must be one of local, lambda, not 'lamda'"),
        ({"SANDBOX_BACKEND": "lambda"}, "SANDBOX_BACKEND=lambda needs SANDBOX_FUNCTION_NAME"),
    ],
)
def test_a_wrong_sandbox_backend_is_refused_at_start_up(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.from_env(env)


def test_the_lambda_sandbox_takes_its_function_name() -> None:
    settings = Settings.from_env({"SANDBOX_BACKEND": "lambda", "SANDBOX_FUNCTION_NAME": "box"})
    assert (settings.sandbox_backend, settings.sandbox_function_name) == ("lambda", "box")


def test_a_shorter_link_expiry_is_kept() -> None:
    assert Settings.from_env({"RESULTS_LINK_EXPIRY_S": "3600"}).results_link_expiry_s == 3600
