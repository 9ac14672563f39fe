"""AWS clients built on first use: a cold start builds only what its request calls."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import boto3
import pytest

from bot.aws_clients import LazyClient
from bot.config import Env
from bot.slack.app import app_from_env
from bot.slack.config import SlackConfig


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The services boto3 built a client for, in order; each client answers ping()."""
    services: list[str] = []

    def client(service: str, **options: Any) -> SimpleNamespace:
        services.append(service)
        return SimpleNamespace(ping=lambda: f"{service} pong", options=options)

    monkeypatch.setattr(boto3, "client", client)
    return services


def test_a_client_is_built_on_first_use_and_only_once(built: list[str]) -> None:
    lazy = LazyClient("dynamodb", region_name="eu-west-1")
    assert built == [] and not lazy.built
    assert lazy.ping() == "dynamodb pong"
    assert lazy.options == {"region_name": "eu-west-1"}
    lazy.ping()
    assert built == ["dynamodb"] and lazy.built


def test_threads_racing_to_first_use_share_one_client(built: list[str]) -> None:
    lazy = LazyClient("sqs")
    threads = [threading.Thread(target=lazy.ping) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert built == ["sqs"]


def test_the_slack_app_builds_no_aws_client_until_a_request_calls_one(
    built: list[str],
) -> None:
    # GIVEN every table and the queue configured
    env = Env({
        "SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-1",
        "JOBS_QUEUE_URL": "https://sqs.example/q", "IDEMPOTENCY_TABLE": "idem",
        "JOBS_TABLE": "jobs", "FEEDBACK_TABLE": "votes",
    })
    # WHEN the app is built from the environment THEN no client exists yet
    app_from_env(SlackConfig.from_env(env), env)
    assert built == []
