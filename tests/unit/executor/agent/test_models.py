"""The model fallback chain, the Bedrock client and the price table."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

from bot.config import ConfigError, Env
from executor.agent.configure import how_to_configure
from executor.agent.models import ModelChain, RetryPolicy, bedrock_client
from executor.config import ModelConfig
from executor.errors import ModelThrottled, ModelUnavailable, ModelUnreachable, TransientError
from tests.support.scripted_model import ScriptedModel, client_error, says

REQUEST: dict[str, Any] = {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}


def chain(model: ScriptedModel, sleeps: list[float], attempts: int = 3) -> ModelChain:
    policy = RetryPolicy(attempts=attempts, base_delay_s=1.0, max_delay_s=3.0,
                         sleep=sleeps.append, jitter=lambda: 1.0)
    return ModelChain(model, ["model-a", "model-b"], policy, job_id="J1")


def test_throttling_backs_off_exponentially_then_falls_back_for_the_rest_of_the_job() -> None:
    # GIVEN the first model is throttled three times in a row
    model = ScriptedModel([client_error("ThrottlingException", status=429)] * 3
                          + [says("one"), says("two")])
    sleeps: list[float] = []
    models = chain(model, sleeps)
    # WHEN two calls are made
    _, first = models.converse(**REQUEST)
    _, second = models.converse(**REQUEST)
    # THEN it waited 1s then 2s between attempts, and the second model served both calls
    assert sleeps == [1.0, 2.0]
    assert [r["modelId"] for r in model.requests] == ["model-a"] * 3 + ["model-b"] * 2
    assert (first, second) == ("model-b", "model-b")


def test_back_off_is_capped_and_jittered() -> None:
    jitters = iter([0.5, 0.25, 1.0, 1.0])
    policy = RetryPolicy(attempts=5, base_delay_s=1.0, max_delay_s=3.0,
                         jitter=lambda: next(jitters))
    assert [policy.delay(n) for n in (1, 2, 3, 4)] == [0.5, 0.5, 3.0, 3.0]


@pytest.mark.parametrize("code", ["ValidationException", "AccessDeniedException",
                                  "ResourceNotFoundException"])
def test_refusals_move_to_the_next_model_without_retrying(code: str) -> None:
    model = ScriptedModel([client_error(code), says("ok")])
    sleeps: list[float] = []
    response, model_id = chain(model, sleeps).converse(**REQUEST)
    assert model_id == "model-b"
    assert response["output"]["message"]["content"] == [{"text": "ok"}]
    assert sleeps == []
    assert len(model.requests) == 2


def test_timeouts_are_retried_like_throttling() -> None:
    timeout = ReadTimeoutError(endpoint_url="https://bedrock-runtime.us-east-1.amazonaws.com")
    model = ScriptedModel([timeout, client_error("ServiceUnavailableException", status=503),
                           says("ok")])
    sleeps: list[float] = []
    _, model_id = chain(model, sleeps).converse(**REQUEST)
    assert model_id == "model-a"
    assert sleeps == [1.0, 2.0]


def test_every_model_busy_is_a_transient_error() -> None:
    model = ScriptedModel([client_error("ThrottlingException", status=429)] * 2
                          + [client_error("AccessDeniedException")])
    with pytest.raises(ModelThrottled, match="model-a: ThrottlingException"):
        chain(model, [], attempts=2).converse(**REQUEST)


def test_no_network_is_unreachable_not_busy() -> None:
    # GIVEN no model endpoint can be reached at all
    down = EndpointConnectionError(endpoint_url="https://bedrock-runtime.us-east-1.amazonaws.com")
    model = ScriptedModel([down] * 4)
    # WHEN the chain gives up THEN it says unreachable (and retries later), never "busy"
    with pytest.raises(ModelUnreachable) as raised:
        chain(model, [], attempts=2).converse(**REQUEST)
    message = str(raised.value)
    assert message.startswith("Bedrock could not be reached: check the network, AWS_REGION")
    assert "busy" not in message and "\n" not in message
    assert isinstance(raised.value, TransientError)


def test_missing_permissions_are_named_in_one_line() -> None:
    model = ScriptedModel([client_error("AccessDeniedException", "not authorized"),
                           client_error("AccessDeniedException", "not authorized")])
    with pytest.raises(ModelUnavailable) as raised:
        chain(model, []).converse(**REQUEST)
    message = raised.value.detail
    assert message.startswith("the AWS identity may not use these models")
    assert "bedrock" not in str(raised.value).lower()  # the thread reads no set-up advice
    assert "bedrock:InvokeModel" in message and "\n" not in message


def test_an_unknown_aws_profile_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # a session reads AWS_PROFILE once
    with pytest.raises(ModelUnavailable) as raised:
        bedrock_client(ModelConfig(region="us-east-1", read_timeout_s=62.0))
    assert raised.value.detail.startswith("AWS_PROFILE names a profile that does not exist")
    assert "AWS_PROFILE" not in str(raised.value)


def test_every_model_refusing_is_a_permanent_error_naming_each() -> None:
    model = ScriptedModel([client_error("AccessDeniedException", "no access"),
                           client_error("ValidationException", "bad model id")])
    with pytest.raises(ModelUnavailable) as raised:
        chain(model, []).converse(**REQUEST)
    assert "model-a: AccessDeniedException: no access" in raised.value.detail
    assert "model-b: ValidationException: bad model id" in raised.value.detail
    assert str(raised.value) == (
        "The AI model is not available here right now; an admin can check its set-up."
    )


def test_the_bedrock_client_is_built_once_with_timeouts_and_the_endpoint_override(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "http://127.0.0.1:4599")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings = ModelConfig(region="eu-west-3", connect_timeout_s=2.5, read_timeout_s=77.0)
    client = bedrock_client(settings)
    assert bedrock_client(settings) is client
    assert client.meta.region_name == "eu-west-3"
    assert client.meta.endpoint_url == "http://127.0.0.1:4599"
    assert client.meta.config.connect_timeout == 2.5
    assert client.meta.config.read_timeout == 77.0
    assert client.meta.config.retries["total_max_attempts"] == 1


def test_model_settings_come_from_the_environment() -> None:
    settings = ModelConfig.from_env(Env({
        "MAX_TURNS": "5", "MAX_TOKENS": "1000", "MAX_SECONDS": "9.5", "SQL_ATTEMPTS": "2",
        "REFLECTION": "off", "BEDROCK_READ_TIMEOUT_S": "30",
        "MODEL_PRICES": '{"m": {"input": 1, "output": 2.5}, '
                        '"c": {"input": 3, "output": 15, "cache_read": 0.3, "cache_write": 3.75}}',
        "PROMPT_CACHE_MODELS": "us.amazon.nova-pro-v1:0=2000, my-model=1024",
    }), region=None)
    assert (settings.max_turns, settings.max_total_tokens, settings.max_seconds) == (5, 1000, 9.5)
    assert (settings.sql_attempts, settings.reflection) == (2, False)
    assert settings.read_timeout_s == 30.0
    # the old syntax (input and output) still holds; cache rates are optional
    assert settings.prices == (("m", 1.0, 2.5, None, None), ("c", 3.0, 15.0, 0.3, 3.75))
    assert settings.cache_models == (("us.amazon.nova-pro-v1:0", 2000), ("my-model", 1024))
    assert settings.prompt_cache is True
    assert ModelConfig.from_env(Env({}), region=None).reflection is True
    assert ModelConfig.from_env(Env({"PROMPT_CACHE": "off"}), region=None).prompt_cache is False


@pytest.mark.parametrize(("name", "value", "message"), [
    ("REFLECTION", "maybe", "REFLECTION must be true or false"),
    ("MODEL_PRICES", '{"m": 3}', "MODEL_PRICES must map model ids"),
    ("MODEL_PRICES", "not json", "MODEL_PRICES must map model ids"),
    ("MODEL_PRICES", '{"m": {"input": 1, "output": 2, "cache_read": "x"}}',
     "MODEL_PRICES must map model ids"),
    ("PROMPT_CACHE", "maybe", "PROMPT_CACHE must be one of auto, off"),
    ("PROMPT_CACHE_MODELS", "my-model", "PROMPT_CACHE_MODELS must list model-id=min_tokens"),
    ("PROMPT_CACHE_MODELS", "my-model=many", "PROMPT_CACHE_MODELS must list"),
    ("MAX_TURNS", "ten", "MAX_TURNS must be a whole number >= 1, got 'ten'"),
    ("SQL_ATTEMPTS", "0", "SQL_ATTEMPTS must be a whole number >= 1, got '0'"),
    ("MAX_SECONDS", "-1", "MAX_SECONDS must be a number above 0, got '-1'"),
])
def test_bad_model_settings_are_named(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ModelConfig.from_env(Env({name: value}), region=None)


def test_missing_credentials_stop_the_chain_with_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a real client that can find no credentials anywhere
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    client = boto3.Session().client("bedrock-runtime", region_name="us-east-1")
    # WHEN the chain calls it, THEN it fails at once, without trying the next model
    sleeps: list[float] = []
    with pytest.raises(ModelUnavailable) as raised:
        ModelChain(client, ["model-a", "model-b"], RetryPolicy(sleep=sleeps.append),
                   job_id="J1").converse(**REQUEST)
    assert raised.value.detail.startswith("no usable AWS credentials for Bedrock")
    assert sleeps == []


def test_a_missing_region_says_how_to_configure_bedrock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    settings = ModelConfig(read_timeout_s=61.0)
    with pytest.raises(ModelUnavailable) as raised:
        bedrock_client(settings)
    assert raised.value.detail == "Bedrock needs an AWS region: set AWS_REGION"


def test_the_configuration_advice_names_every_setting() -> None:
    advice = how_to_configure(ModelConfig(model_ids=("model-a", "model-b")))
    for needed in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_REGION",
                   "MODEL_IDS (optional), tried in order: model-a,model-b",
                   "MODEL_PROVIDER=bedrock", "MODEL_PROVIDER=offline"):
        assert needed in advice
