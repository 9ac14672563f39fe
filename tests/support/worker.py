"""Fixtures for the worker's tests: jobs, waiting, and `databot worker` subprocesses
(which answer with `tests.support.scripted_engine`)."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.delivery import Channels
from bot.job import Job, ReplyTo, utc_now_iso
from bot.slack.outbox import SlackChannel
from bot.slack.replier import SlackReplier
from executor.worker.queue import QueueMessage
from tests.support.aws import AwsStack
from tests.support.paths import REPO
from tests.support.slack_api import SlackApiStandIn

SCRIPTED_ENGINE = "tests.support.scripted_engine:scripted_engine_from_env"
AGENT_ENGINE = "tests.support.scripted_engine:agent_from_env"
HELD_ENGINE = "tests.support.scripted_engine:held_engine_from_env"


def slack_job(
    text: str = "how many users signed up in March?",
    *,
    job_id: str | None = None,
    channel: str = "C0001",
    thread_ts: str | None = "1730000000.000100",
    response_url: str | None = None,
    source: str = "slack",
    surface: str | None = None,
    kind: str = "answer",
    context: dict[str, str] | None = None,
) -> Job:
    job_id = job_id or f"Ev{uuid.uuid4().hex[:10].upper()}"
    return Job(
        job_id=job_id,
        source=source,
        conversation_id=f"T0001:{channel}:{thread_ts or job_id}",
        user_id="U0001",
        text=text,
        reply_to=ReplyTo(kind="slack", team_id="T0001", channel=channel, thread_ts=thread_ts,
                         response_url=response_url, surface=surface),
        received_at=utc_now_iso(),
        kind=kind,
        context=context,
    )


def slack_channels(client: WebClient) -> Channels:
    """A worker's channels, Slack's on `client` (pointed at the Slack stand-in)."""
    return Channels({"slack": SlackChannel(SlackReplier(client))})


def wait_for(condition: Callable[[], object], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class WorkerProcess:
    process: subprocess.Popen[bytes]
    health_port: int
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def worker_process(
    aws_stack: AwsStack, slack_api: SlackApiStandIn, tmp_path: Path
) -> Iterator[Callable[..., WorkerProcess]]:
    """Start `databot worker` subprocesses on the test's AWS stack and Slack stand-in;
    `start(engine=..., **env)` picks the engine factory and adds or overrides environment
    variables. All are killed at the end."""
    started: list[WorkerProcess] = []

    def start(engine: str = SCRIPTED_ENGINE, **extra_env: str) -> WorkerProcess:
        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SLACK_"))},
            **aws_stack.env,
            "SLACK_API_URL": slack_api.url,
            "SLACK_BOT_TOKEN": slack_api.token,
            "MODEL_PROVIDER": "offline",
            "RESULTS_DIR": str(tmp_path / "results"),
            "WORKER_WAIT_S": "1",
            "WORKER_VISIBILITY_S": "3",
            "WORKER_HEARTBEAT_S": "1",
            "WORKER_BACKOFF_BASE_S": "1",
            "PROGRESS_INTERVAL_S": "0.2",
            "HEALTH_PORT": str(port),
            "PYTHONPATH": str(REPO),
            **extra_env,
        }
        log_path = tmp_path / f"worker-{len(started)}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "executor", "--engine", engine],
                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
            )
        worker = WorkerProcess(process, port, log_path)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.process.kill()
        worker.process.wait(timeout=10)


@pytest.fixture
def no_channel_status(slack_api: SlackApiStandIn) -> SlackApiStandIn:
    """A workspace that takes no status line in channel threads: a mention's replies go
    through the placeholder and its edits (bot/slack/channel_thread.py falls back to it)."""
    slack_api.refuse_channel_status()
    return slack_api


def message(job: Job | str, receive_count: int = 1, *, message_id: str | None = None
            ) -> QueueMessage:
    """`job` (or a raw body) as the jobs queue hands it out. SQS keeps a message's id across
    its deliveries, so the id is the body's digest unless given: a redelivery of the same
    body is the same message, and a duplicate sent again needs an id of its own."""
    body = job if isinstance(job, str) else job.to_json()
    return QueueMessage(
        message_id=message_id or f"m-{hashlib.sha256(body.encode()).hexdigest()[:16]}",
        receipt_handle=f"rh-{receive_count}", body=body, receive_count=receive_count,
        sent_at=time.time())
