"""`databot worker` and `databot dev` refuse to start on bad settings, naming the problem."""

from __future__ import annotations

import json
import os
import socket
import uuid

import boto3
import pytest

from bot.config import ConfigError, Env
from bot.delivery import ChannelsConfig, open_channels
from executor.cli import main
from executor.worker.app import build_worker, load_engine_factory
from executor.worker.config import WorkerConfig, WorkerSettings
from tests.support.aws import AwsStack
from tests.support.scripted_engine import ScriptedEngine

SCRIPTED = "tests.support.scripted_engine:scripted_engine_from_env"


def test_worker_names_a_malformed_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WORKER_CONCURRENCY", "eight")
    assert main(["worker"]) == 2
    assert "WORKER_CONCURRENCY must be a whole number >= 1, got 'eight'" in capsys.readouterr().err


def test_worker_names_missing_queue_and_table(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("JOBS_QUEUE_URL", "JOBS_TABLE", "WORKER_CONCURRENCY"):
        monkeypatch.delenv(name, raising=False)
    engine = "tests.support.scripted_engine:scripted_engine_from_env"
    assert main(["worker", "--engine", engine]) == 2
    assert "missing settings: JOBS_QUEUE_URL, JOBS_TABLE" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("no_colon", "must look like module:function"),
        ("executor.nowhere:build", "cannot load engine factory"),
        ("executor.sample_data_dir:CHECKOUT_INPUT", "is not callable"),
    ],
)
def test_a_bad_engine_factory_is_named(spec: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        load_engine_factory(spec)


def test_dev_needs_both_slack_tokens(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    assert main(["dev"]) == 2
    assert "SLACK_APP_TOKEN" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"WORKER_VISIBILITY_S": "30", "WORKER_HEARTBEAT_S": "30"},
         "WORKER_HEARTBEAT_S must be below WORKER_VISIBILITY_S (30), got 30.0"),
        ({"HEALTH_PORT": "70000"}, "HEALTH_PORT must be between 0 and 65535, got 70000"),
    ],
)
def test_worker_refuses_inconsistent_settings(
    env: dict[str, str], problem: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["worker", "--engine", SCRIPTED]) == 2
    assert problem in capsys.readouterr().err


def test_a_worker_config_is_checked_however_it_is_made() -> None:
    with pytest.raises(ConfigError, match="WORKER_CONCURRENCY must be >= 1, got 0"):
        WorkerConfig(concurrency=0)


def test_worker_names_a_health_port_in_use(
    aws_stack: AwsStack, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the health port taken by another process
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # WHEN the worker starts on it THEN it says so in one line and exits 2
        assert main(["worker", "--engine", SCRIPTED, "--health-port", str(port)]) == 2
    assert f"cannot serve /health on port {port}" in capsys.readouterr().err


def test_a_slack_secret_without_a_bot_token_is_named(aws_stack: AwsStack) -> None:
    arn = boto3.client("secretsmanager").create_secret(
        Name=f"databot-{uuid.uuid4().hex[:8]}",
        SecretString=json.dumps({"SLACK_SIGNING_SECRET": "s"}),
    )["ARN"]
    config = ChannelsConfig.from_env(Env({"SLACK_SECRET_ARN": arn}))
    with pytest.raises(ConfigError, match="has no SLACK_BOT_TOKEN"):
        open_channels(config)


def test_the_worker_writes_job_records_with_the_configured_ttl(aws_stack: AwsStack) -> None:
    env = Env({**os.environ, "JOB_TTL_DAYS": "3", "SLACK_BOT_TOKEN": "xoxb-1"})
    worker = build_worker(WorkerSettings.from_env(env), ScriptedEngine())
    assert worker.runner.jobs._ttl_s == 3 * 86400


def test_a_redshift_that_cannot_be_reached_stops_the_start(
    aws_stack: AwsStack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a Redshift WAREHOUSE_URL on a port where nothing listens
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("WAREHOUSE_URL", f"redshift://databot@127.0.0.1:{port}/dev")
    monkeypatch.setenv("REDSHIFT_PASSWORD", "pw")
    monkeypatch.setenv("MODEL_PROVIDER", "offline")
    # WHEN the worker starts with the default (warm) engine
    # THEN it stops at once, exit 2, naming the server, and no job is ever taken
    assert main(["worker", "--health-port", "0"]) == 2
    assert "databot worker: cannot connect to Redshift at 127.0.0.1" in capsys.readouterr().err
