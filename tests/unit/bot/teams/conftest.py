"""The job runner delivering to the Bot Connector stand-in, for the Teams outbox tests."""

from __future__ import annotations

from collections.abc import Callable

import boto3
import pytest

from bot.delivery import Channels
from bot.job_store import JobStore
from bot.teams.outbox import TeamsChannel
from executor.conversations import ConversationStore
from executor.worker.metrics import WorkerMetrics
from executor.worker.runner import JobRunner
from tests.support.aws import AwsStack
from tests.support.scripted_engine import ScriptedEngine
from tests.support.takeover import CONFIG
from tests.support.teams_connector import TeamsConnectorStandIn

Runner = Callable[..., JobRunner]


@pytest.fixture
def runner(aws_stack: AwsStack, teams_connector: TeamsConnectorStandIn) -> Runner:
    def make(engine: ScriptedEngine, *, store: type[JobStore] = JobStore,
             suggest: Callable[[str], list[str]] | None = None) -> JobRunner:
        dynamodb = boto3.client("dynamodb")
        channel = TeamsChannel.connect(teams_connector.config())
        extra = {"suggest": suggest} if suggest else {}
        return JobRunner(engine, store(aws_stack.jobs_table, client=dynamodb), config=CONFIG,
                         metrics=WorkerMetrics(None), channels=Channels({"teams": channel}),
                         conversations=ConversationStore(aws_stack.conversations_table,
                                                         client=dynamodb), **extra)

    return make
