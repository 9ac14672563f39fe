"""AWS clients built on first use: a cold start builds only what its request calls."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest

from bot import aws_clients
from bot.aws_clients import LazyClient, new_client
from bot.config import Env
from bot.slack.app import app_from_env
from bot.slack.config import SlackConfig


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The services the session built a client for, in order; each client answers ping()."""
    services: list[str] = []

    def create_client(service: str, **options: Any) -> SimpleNamespace:
        services.append(service)
        return SimpleNamespace(ping=lambda: f"{service} pong", options=options)

    monkeypatch.setattr(aws_clients, "_session", SimpleNamespace(create_client=create_client))
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


def test_every_client_comes_from_one_botocore_session(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN no session yet
    monkeypatch.setattr(aws_clients, "_session", None)
    # WHEN two services' clients are built
    sqs = new_client("sqs", region_name="eu-west-1")
    dynamodb = new_client("dynamodb", region_name="eu-west-1")
    # THEN one session built both, and keeps the endpoint data they share
    session = aws_clients._session
    assert session is not None
    assert (sqs.meta.service_model.service_name, dynamodb.meta.service_model.service_name) == (
        "sqs", "dynamodb")
    assert new_client("sqs", region_name="eu-west-1") is not sqs
    assert aws_clients._session is session
