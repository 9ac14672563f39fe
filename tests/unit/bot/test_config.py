"""The one environment parser: typed getters, errors naming the variable and its value, and
Secrets Manager JSON secrets."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from bot.config import ConfigError, Env, read_json_secret, require
from tests.support.paths import REPO

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:databot/x-AbCdEf"


def test_unset_and_empty_variables_take_their_defaults() -> None:
    env = Env({"EMPTY": ""})

    assert env.text("EMPTY") is None
    assert env.text("UNSET", "fallback") == "fallback"
    assert env.integer("EMPTY", 7) == 7
    assert env.integer("UNSET", None, minimum=0) is None
    assert env.number("EMPTY", 1.5) == 1.5
    assert env.flag("EMPTY") is False
    assert env.flag("UNSET", True) is True
    assert env.choice("EMPTY", ("a", "b"), "b") == "b"
    assert env.items("EMPTY") == ()
    assert env.ids("UNSET") == frozenset()


def test_values_are_typed() -> None:
    env = Env({"N": "42", "F": "2.5", "ON": "Yes", "OFF": "off", "LIST": " a, b ,,c ",
               "IDS": "T1,T2,T1", "PICK": "b"})

    assert env.integer("N", 1) == 42
    assert env.number("F", 1.0) == 2.5
    assert (env.flag("ON"), env.flag("OFF", True)) == (True, False)
    assert env.items("LIST") == ("a", "b", "c")
    assert env.ids("IDS") == frozenset({"T1", "T2"})
    assert env.choice("PICK", ("a", "b"), "a") == "b"


def test_it_reads_the_process_environment_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABOT_TEST_VALUE", "12")
    assert Env().integer("DATABOT_TEST_VALUE", 1) == 12


@pytest.mark.parametrize(
    ("read", "message"),
    [
        (lambda env: env.integer("V", 1), "V must be a whole number >= 1, got 'x'"),
        (lambda env: env.integer("V", 1, minimum=0, maximum=20),
         "V must be a whole number between 0 and 20, got 'x'"),
        (lambda env: env.number("V", 1.0), "V must be a number above 0, got 'x'"),
        (lambda env: env.number("V", 1.0, minimum=0), "V must be a number >= 0, got 'x'"),
        (lambda env: env.flag("V"), "V must be true or false, got 'x'"),
        (lambda env: env.choice("V", ("a", "b"), "a"), "V must be one of a, b, got 'x'"),
    ],
)
def test_a_malformed_value_is_named_with_the_variable(read: object, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        read(Env({"V": "x"}))  # type: ignore[operator]
    assert str(error.value) == message
    assert isinstance(error.value, ValueError)


@pytest.mark.parametrize(
    ("value", "minimum", "maximum", "message"),
    [
        ("0", 1, None, "N must be a whole number >= 1, got '0'"),
        ("21", 1, 20, "N must be a whole number between 1 and 20, got '21'"),
        ("-1", 0, None, "N must be a whole number >= 0, got '-1'"),
        ("2.5", 1, None, "N must be a whole number >= 1, got '2.5'"),
    ],
)
def test_whole_numbers_are_bounded(
    value: str, minimum: int, maximum: int | None, message: str
) -> None:
    with pytest.raises(ConfigError, match=rf"^{message}$"):
        Env({"N": value}).integer("N", 1, minimum=minimum, maximum=maximum)
    assert Env({"N": str(minimum)}).integer("N", 5, minimum=minimum, maximum=maximum) == minimum


def test_numbers_are_above_zero_unless_a_minimum_is_given() -> None:
    with pytest.raises(ConfigError, match=r"^F must be a number above 0, got '0'$"):
        Env({"F": "0"}).number("F", 1.0)
    assert Env({"F": "0"}).number("F", 1.0, minimum=0) == 0.0


def test_require_names_every_missing_setting() -> None:
    with pytest.raises(ConfigError, match=r"^missing settings: A, C$"):
        require({"A": None, "B": "set", "C": ""})
    require({"B": "set"})


def test_a_json_secret_is_read_as_an_object() -> None:
    secret = {"password": "s3cret", "port": 5439}
    client = _secrets_client()
    with Stubber(client) as stub:
        stub.add_response(
            "get_secret_value", {"ARN": ARN, "SecretString": json.dumps(secret)}, {"SecretId": ARN}
        )
        assert read_json_secret(ARN, client=client) == secret


@pytest.mark.parametrize("text", ["hunter2-not-json", '["hunter2"]'])
def test_a_secret_that_is_not_a_json_object_is_named_without_its_content(text: str) -> None:
    client = _secrets_client()
    with Stubber(client) as stub:
        stub.add_response("get_secret_value", {"ARN": ARN, "SecretString": text}, {"SecretId": ARN})
        with pytest.raises(ConfigError, match=rf"^secret {ARN} is not a JSON object$") as error:
            read_json_secret(ARN, client=client)
    assert "hunter2" not in str(error.value)
    assert error.value.__cause__ is None


def test_reading_settings_loads_no_aws_sdk() -> None:
    # The ingress Lambdas import bot.config on a cold start: boto3 waits for a secret.
    code = "import sys, bot.config; print('boto3' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, check=True).stdout.strip()
    assert loaded == "False"


def _secrets_client() -> Any:
    return boto3.client("secretsmanager", region_name="us-east-1",
                        aws_access_key_id="x", aws_secret_access_key="x")
