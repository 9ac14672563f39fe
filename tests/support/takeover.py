"""Killing a worker at any step of a job, for the delivery-guarantee tests (docs/worker.md,
"Delivery guarantees").

A kill is simulated by `Killed`, raised right after the n-th call to Slack or DynamoDB
has taken effect: it is a BaseException, so nothing in the worker catches it, and the
stand-ins keep what the call did, as they would after a SIGKILL. `runner_for` (fixture)
builds a job runner whose Slack and DynamoDB calls pass a `KillSwitch`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from slack_sdk import WebClient
from slack_sdk.web import SlackResponse

from bot.job import Job
from bot.job_store import JobStore
from bot.slack.replier import Marker, retry_handlers
from executor.conversations import ConversationStore
from executor.worker.config import WorkerConfig
from executor.worker.metrics import WorkerMetrics
from executor.worker.runner import JobRunner, Outcome
from tests.support.aws import AwsStack
from tests.support.scripted_engine import ScriptedEngine
from tests.support.slack_api import Message as SlackMessage
from tests.support.slack_api import SlackApiStandIn
from tests.support.worker import message, slack_channels

CONFIG = WorkerConfig(progress_interval_s=0.0, backoff_base_s=10, unexpected_attempts=2)
ANSWER = "**42** users signed up"


class Killed(BaseException):
    """Stands for SIGKILL at a step of the job."""


class KilledOnceDone(JobStore):
    """A job store whose worker dies as it records the job done (the answer is out)."""

    def mark_done(self, job_id: str, answer: dict | None) -> None:  # type: ignore[type-arg]
        raise Killed("mark_done")


class KillSwitch:
    """Counts the worker's calls to Slack and DynamoDB; kills it right after the
    `kill_after`-th has taken effect (never when None)."""

    def __init__(self, kill_after: int | None = None) -> None:
        self.kill_after = kill_after
        self.steps: list[str] = []

    def passed(self, step: str) -> None:
        self.steps.append(step)
        if len(self.steps) == self.kill_after:
            raise Killed(step)


class KillableWebClient(WebClient):
    def __init__(self, switch: KillSwitch, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.switch = switch

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        response = super().api_call(api_method, **kwargs)
        self.switch.passed(api_method)
        return response


class KillableDynamoDB:
    """A boto3 DynamoDB client whose calls pass the kill switch once they are done."""

    def __init__(self, switch: KillSwitch) -> None:
        self._client = boto3.client("dynamodb")
        self._switch = switch
        self.exceptions = self._client.exceptions

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._client, name)

        def call(**kwargs: Any) -> Any:
            result = method(**kwargs)
            self._switch.passed(name)
            return result

        return call


@pytest.fixture
def runner_for(
    aws_stack: AwsStack, slack_api: SlackApiStandIn, tmp_path: Path
) -> Callable[[KillSwitch, ScriptedEngine], JobRunner]:
    def make(switch: KillSwitch, engine: ScriptedEngine) -> JobRunner:
        dynamodb = KillableDynamoDB(switch)
        client = KillableWebClient(switch, token=slack_api.token, base_url=slack_api.url,
                                   retry_handlers=retry_handlers(2))
        return JobRunner(
            engine,
            JobStore(aws_stack.jobs_table, client=dynamodb),
            config=CONFIG,
            metrics=WorkerMetrics(None),
            channels=slack_channels(client),
            conversations=ConversationStore(aws_stack.conversations_table, client=dynamodb),
        )

    return make


def killed_then_taken_over(
    runner_for: Callable[[KillSwitch, ScriptedEngine], JobRunner], job: Job,
    engine: ScriptedEngine, kill_after: int,
) -> Outcome:
    """Run `job` on a worker killed right after its `kill_after`-th step, then on one that
    takes it over; the takeover's outcome."""
    with pytest.raises(Killed):
        runner_for(KillSwitch(kill_after), engine).run(message(job, 1))
    return runner_for(KillSwitch(), engine).run(message(job, 2))


def marked(messages: list[SlackMessage], job: Job, kind: str) -> list[SlackMessage]:
    """The messages whose metadata marks them as `kind` of this job."""
    found = []
    for msg in messages:
        marker = Marker.read(msg.metadata)
        if marker and marker.job_id == job.job_id and marker.kind == kind:
            found.append(msg)
    return found


def assert_one_answer_without_placeholder(thread: list[SlackMessage], job: Job, where: str
                                          ) -> None:
    """The thread of a job answered under a status line: one answer, its chart once (or a
    note saying it is missing), and no placeholder."""
    (answer,) = marked(thread, job, "answer")
    assert ANSWER in json.dumps(answer.blocks), where
    charts = [m for m in thread if m.files]
    assert (len(charts), len(marked(thread, job, "note"))) in ((1, 0), (0, 1)), where
    assert not marked(thread, job, "placeholder"), where
