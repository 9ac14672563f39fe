"""End to end for Microsoft Teams: a channel mention signed with the local Bot Framework key
goes through the Teams Lambda handler (in-process), onto SQS (moto's server), to the worker
(the real JobRunner and agent over the DuckDB sample data and S3 artifacts, with a scripted
model), and back to the Bot Connector stand-in: the placeholder in the thread, progress,
then the Adaptive Card answer with its chart. A follow-up in the thread is answered with
the thread's memory, and a 👍 pressed on the card is recorded in FEEDBACK_TABLE."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from bot.config import Env
from bot.feedback import FeedbackStore
from bot.job_store import DONE, JobStore
from bot.teams.activities import ADAPTIVE_CARD_ACTION, job_key
from executor.agent import create_agent
from executor.artifacts import open_artifact_store
from executor.warehouse.factory import open_warehouse
from executor.worker.app import build_worker
from executor.worker.config import WorkerSettings
from executor.worker.queue import SqsQueue
from executor.worker.service import Worker
from handlers import teams_messages
from tests.support.aws import AwsStack
from tests.support.events import LambdaContext
from tests.support.scripted_model import ScriptedModel, calls, run_sql, says, tool_use
from tests.support.teams_auth import KeyEndpoint, activity
from tests.support.teams_connector import APP_PASSWORD, TeamsConnectorStandIn

pytestmark = pytest.mark.integration

MONTHLY_SIGNUPS = (
    "SELECT date_trunc('month', signup_date) AS month, count(*) AS users "
    "FROM users GROUP BY 1 ORDER BY 1"
)
ANSWER = "Signups grew steadily: **see the chart** for each month since 2024."
SIGNUPS_2025 = "SELECT count(*) AS users FROM users WHERE year(signup_date) = 2025"
FOLLOW_UP_ANSWER = "In 2025, **that many** people signed up."
THREAD = "19:a1b2c3d4e5f6@thread.tacv2;messageid=1731000000123"


@pytest.fixture
def teams_env(aws_stack: AwsStack, key_endpoint: KeyEndpoint,
              teams_connector: TeamsConnectorStandIn, monkeypatch: pytest.MonkeyPatch,
              tmp_path: Any) -> Iterator[None]:
    """The Teams front door's and the worker's environment, on the stand-ins."""
    for name, value in {
        "TEAMS_APP_ID": teams_connector.config().app_id or "",
        "TEAMS_APP_PASSWORD": APP_PASSWORD,
        "TEAMS_TOKEN_URL": teams_connector.token_url,
        "TEAMS_SERVICE_URL_HOSTS": "127.0.0.1",
        "TEAMS_OPENID_METADATA_URL": key_endpoint.metadata_url,
        "MODEL_PROVIDER": "offline",
        "RESULTS_DIR": str(tmp_path / "results"),
        "PROGRESS_INTERVAL_S": "0",
    }.items():
        monkeypatch.setenv(name, value)
    teams_messages._ingress.cache_clear()
    yield
    teams_messages._ingress.cache_clear()


def worker_with(model: ScriptedModel) -> Worker:
    """The worker the environment describes, its agent on `model`."""
    settings = WorkerSettings.from_env(Env())
    engine = create_agent(settings.engine.model, settings.engine.sandbox,
                          open_warehouse(settings.engine.warehouse),
                          open_artifact_store(settings.engine.artifacts), client=model)
    return build_worker(settings, engine)


def work_one(worker: Worker, queue: SqsQueue) -> None:
    """Take the one queued job and run it as the worker's loop would."""
    (message,) = queue.receive(1, 1)
    worker.runner.run(message)
    queue.delete(message)


def post(activity_body: dict[str, Any], key_endpoint: KeyEndpoint) -> dict[str, Any]:
    response: dict[str, Any] = teams_messages.handler(key_endpoint.signed(activity_body),
                                                      LambdaContext())
    return response


def test_a_channel_mention_is_answered_with_a_card_remembered_and_voted_on(
    teams_env: None, aws_stack: AwsStack, key_endpoint: KeyEndpoint,
    teams_connector: TeamsConnectorStandIn,
) -> None:
    model = ScriptedModel([
        run_sql(MONTHLY_SIGNUPS),
        calls(tool_use("make_chart", {"query": "q1", "kind": "line", "x": "month",
                                      "y": "users", "title": "Signups by month"})),
        says(ANSWER), says(ANSWER),
        run_sql(SIGNUPS_2025), says(FOLLOW_UP_ANSWER), says(FOLLOW_UP_ANSWER),
    ])
    worker = worker_with(model)
    queue = SqsQueue(aws_stack.queue_url)

    # WHEN Teams delivers a signed channel mention, its serviceUrl the stand-in's
    mention = activity(serviceUrl=teams_connector.url)
    assert post(mention, key_endpoint)["statusCode"] == 200
    work_one(worker, queue)

    # THEN one message is in the thread, replying to the mention: the placeholder, which
    # showed the agent's stages and became the answer's card
    (reply,) = teams_connector.in_conversation(THREAD)
    assert reply.reply_to_id == mention["id"]
    stages = " | ".join(str(v.get("text")) for v in reply.history)
    assert "Working on it" in stages and "Running SQL" in stages
    card = reply.body["attachments"][0]["content"]
    shown = json.dumps(card, ensure_ascii=False)
    assert "**see the chart**" in shown
    assert "date_trunc('month', signup_date)" in shown
    assert '"type": "Table"' in shown and "latest 20 of 35 months" in shown
    (chart,) = [e for e in card["body"] if e["type"] == "Image"]
    assert chart["altText"] == "Signups by month" and chart["url"].startswith("http")
    job_id = job_key(mention["conversation"]["id"], mention["id"])
    assert f"ref {job_id}" in shown
    record = JobStore(aws_stack.jobs_table).get(job_id)
    assert record is not None and record.status == DONE

    # WHEN a follow-up is asked in the same thread
    follow_up = activity(serviceUrl=teams_connector.url, id="1731000000456",
                         text="<at>databot</at> and in 2025 alone?")
    assert post(follow_up, key_endpoint)["statusCode"] == 200
    work_one(worker, queue)
    # THEN the model saw the thread's first question and answer
    seen = json.dumps(model.requests[4]["messages"])
    assert "how many users signed up each month?" in seen and "see the chart" in seen
    answers = [a for a in teams_connector.in_conversation(THREAD) if a.id != reply.id]
    (second,) = answers
    assert "**that many**" in json.dumps(second.body, ensure_ascii=False)

    # WHEN the asker presses 👍 on the first answer's card (an Action.Execute invoke)
    (thumbs_up,) = [a for a in card["body"][-1]["actions"] if a["title"] == "👍"]
    invoke = activity(serviceUrl=teams_connector.url, type="invoke", id="1731000000789",
                      name=ADAPTIVE_CARD_ACTION, replyToId=reply.id, text="",
                      value={"action": {"type": "Action.Execute", "verb": thumbs_up["verb"],
                                        "data": thumbs_up["data"]}})
    response = post(invoke, key_endpoint)
    # THEN the vote is recorded against the answer, in the same store as Slack's
    assert response["statusCode"] == 200
    (vote,) = FeedbackStore(aws_stack.feedback_table).votes()
    assert (vote.job_id, vote.value) == (job_id, "up")
    assert vote.user_id == mention["from"]["aadObjectId"]
