"""The Teams Lambda entry point as Lambda runs it: built from the environment on the first
request, keys kept across warm invocations, metrics flushed per invocation, and a cold
start that loads neither the worker's libraries nor any chat SDK."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bot.config import ConfigError
from bot.ingress.metrics import DUPLICATE_EVENTS, EVENTS_RECEIVED, FEEDBACK_UP
from bot.teams.activities import CardAction
from handlers import teams_messages
from tests.support.aws import AwsStack
from tests.support.events import LambdaContext
from tests.support.ingress import HEAVY_MODULES, IngressStack
from tests.support.metrics import Emitted, counts
from tests.support.paths import REPO
from tests.support.teams_auth import APP_ID, KeyEndpoint, activity

# No chat SDK on the Teams front door: neither Slack's nor Microsoft's.
SDK_PREFIXES = ("slack_bolt", "slack_sdk", "bot.slack", "microsoft", "botbuilder")


@pytest.fixture
def teams_env(lambda_env: IngressStack, key_endpoint: KeyEndpoint,
              monkeypatch: pytest.MonkeyPatch) -> IngressStack:
    monkeypatch.setenv("TEAMS_APP_ID", APP_ID)
    monkeypatch.setenv("TEAMS_OPENID_METADATA_URL", key_endpoint.metadata_url)
    return lambda_env


def test_the_handler_keeps_the_keys_and_flushes_metrics_per_invocation(
    teams_env: IngressStack, key_endpoint: KeyEndpoint, emitted: Emitted
) -> None:
    # WHEN one container takes a mention twice and a 👍
    press = activity(type="invoke", name="adaptiveCard/action", id="f:1", text="",
                     value={"action": {"verb": "feedback", "data": CardAction(
                         "feedback", "job-1", value="up").data()}})
    responses = [teams_messages.handler(key_endpoint.signed(source), LambdaContext())
                 for source in ("teams_message", "teams_message", press)]

    # THEN all were acknowledged, the keys fetched once, and each invocation counted
    assert [r["statusCode"] for r in responses] == [200, 200, 200]
    assert len(key_endpoint.fetches) == 2
    assert len(teams_env.queued_jobs()) == 1
    first, second, third = emitted()
    assert counts([first]) == {EVENTS_RECEIVED: 1}
    assert counts([second]) == {EVENTS_RECEIVED: 1, DUPLICATE_EVENTS: 1}
    assert counts([third]) == {FEEDBACK_UP: 1}


def test_without_an_app_id_the_handler_stops_with_a_clear_error(
    lambda_env: IngressStack, key_endpoint: KeyEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEAMS_APP_ID", raising=False)

    with pytest.raises(ConfigError, match="missing settings: TEAMS_APP_ID"):
        teams_messages.handler(key_endpoint.signed("teams_message"), LambdaContext())


COLD_START = """
import json, sys

event = json.loads(sys.stdin.read())
from tests.support.events import LambdaContext
from handlers.teams_messages import handler
response = handler(event, LambdaContext())
loaded = [name for name in sys.modules if name.startswith({prefixes!r})]
print(json.dumps({{"status": response["statusCode"], "loaded": loaded}}))
"""


def test_cold_start_loads_no_worker_library_and_no_chat_sdk(
    aws_stack: AwsStack, key_endpoint: KeyEndpoint
) -> None:
    # GIVEN a fresh interpreter with the Lambda's environment, on the moto server
    env = {
        "PATH": os.environ.get("PATH", ""),
        **aws_stack.env,
        "TEAMS_APP_ID": APP_ID,
        "TEAMS_OPENID_METADATA_URL": key_endpoint.metadata_url,
    }

    # WHEN it imports the handler and handles its first activity
    result = subprocess.run(
        [sys.executable, "-c", COLD_START.format(prefixes=HEAVY_MODULES + SDK_PREFIXES)],
        input=json.dumps(key_endpoint.signed("teams_message")),
        capture_output=True, text=True, cwd=REPO, env=env, timeout=60, check=True,
    )

    # THEN the activity was queued and nothing heavy came in on the way
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"status": 200, "loaded": []}
    assert aws_stack.queue_depth() == (1, 0)
