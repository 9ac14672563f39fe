"""Failure classification, back-off and the worker's settings."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from bot.config import ConfigError, Env
from bot.delivery import NoChannel, Unavailable, Unreachable
from bot.slack.replier import ChannelUnreachable, SlackUnavailable
from executor.errors import BudgetExceeded, ModelThrottled, UnsafeSQL, WarehouseError
from executor.worker.config import WorkerConfig
from executor.worker.failures import Verdict, backoff_s, classify, user_message


def client_error(code: str, status: int) -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": code},
                     "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "PutItem")


@pytest.mark.parametrize(
    ("error", "verdict"),
    [
        (ModelThrottled("every model throttled"), Verdict.TRANSIENT),
        (SlackUnavailable("HTTP 503"), Verdict.TRANSIENT),
        (Unavailable("throttled"), Verdict.TRANSIENT),
        (client_error("ProvisionedThroughputExceededException", 400), Verdict.TRANSIENT),
        (client_error("InternalServerError", 500), Verdict.TRANSIENT),
        (EndpointConnectionError(endpoint_url="https://sqs"), Verdict.TRANSIENT),
        (UnsafeSQL("DROP is not allowed"), Verdict.PERMANENT),
        (WarehouseError("column x does not exist"), Verdict.PERMANENT),
        (BudgetExceeded("12 turns"), Verdict.PERMANENT),
        (NoChannel("the worker has no Slack token to reply with"), Verdict.PERMANENT),
        (ChannelUnreachable("not_in_channel", error="not_in_channel"), Verdict.UNREACHABLE),
        (Unreachable("conversation gone"), Verdict.UNREACHABLE),
        (client_error("ValidationException", 400), Verdict.UNEXPECTED),
        (KeyError("x"), Verdict.UNEXPECTED),
    ],
)
def test_errors_are_classified_by_class(error: Exception, verdict: Verdict) -> None:
    assert classify(error) is verdict


def test_backoff_doubles_per_delivery_and_is_capped() -> None:
    delays = [backoff_s(n, base_s=10, max_s=300) for n in range(1, 8)]
    assert delays == [10, 20, 40, 80, 160, 300, 300]
    assert backoff_s(40, base_s=10, max_s=10**9) == 12 * 3600


def test_the_person_reads_the_error_itself_or_a_reference() -> None:
    assert user_message(UnsafeSQL("DROP is not allowed"), Verdict.PERMANENT, "j1") == (
        "DROP is not allowed"
    )
    assert "(ref j1)" in user_message(KeyError("x"), Verdict.UNEXPECTED, "j1")
    assert "12 turns" in user_message(BudgetExceeded("12 turns"), Verdict.PERMANENT, "j1")


def test_worker_config_reads_the_environment() -> None:
    config = WorkerConfig.from_env(Env({"WORKER_CONCURRENCY": "32", "WORKER_VISIBILITY_S": "90",
                                        "WORKER_GRACE_S": "50", "HEALTH_PORT": "9000",
                                        "POWERTOOLS_METRICS_NAMESPACE": "databot"}))
    assert (config.concurrency, config.visibility_s, config.heartbeat_s) == (32, 90, 30.0)
    assert (config.grace_s, config.health_port, config.metrics_namespace) == (50.0, 9000,
                                                                              "databot")
    defaults = WorkerConfig.from_env(Env({}))
    assert (defaults.concurrency, defaults.wait_time_s, defaults.grace_s) == (8, 20, 100.0)
    assert defaults.metrics_namespace is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WORKER_CONCURRENCY": "many"},
         "WORKER_CONCURRENCY must be a whole number >= 1, got 'many'"),
        ({"WORKER_CONCURRENCY": "0"}, "WORKER_CONCURRENCY must be a whole number >= 1, got '0'"),
        ({"WORKER_WAIT_S": "30"},
         "WORKER_WAIT_S must be a whole number between 1 and 20, got '30'"),
        ({"WORKER_PREFETCH": "-1"}, "WORKER_PREFETCH must be a whole number >= 0, got '-1'"),
        ({"WORKER_GRACE_S": "0.5"}, "WORKER_GRACE_S must be a number >= 1, got '0.5'"),
    ],
)
def test_a_bad_worker_setting_is_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        WorkerConfig.from_env(Env(env))
