"""The Lambda entry points as Lambda runs them: built from the environment on the first
request, once per container, in an interpreter that never loads the worker's libraries."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from typing import Any

import boto3
import pytest

import bot.slack.config
from bot.config import ConfigError
from bot.observability import service_name
from handlers import prompt_api, slack_events
from tests.support.aws import AwsStack
from tests.support.events import LambdaContext, load_event
from tests.support.ingress import HEAVY_MODULES, IngressStack
from tests.support.paths import REPO
from tests.support.signing import SIGNING_SECRET, SignedEvent, signed
from tests.support.xray import TRACE_ID, TRACE_PARENT, XRayDaemon, invoke_in_lambda


def test_slack_handler_fetches_its_secret_once_per_container(
    ingress_stack: IngressStack,
    signed_event: SignedEvent,
    fresh_handlers: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN the Slack credentials only in Secrets Manager
    arn = boto3.client("secretsmanager").create_secret(
        Name="databot/slack-handler",
        SecretString=json.dumps(
            {
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_BOT_TOKEN": ingress_stack.slack_api.token,
            }
        ),
    )["ARN"]
    env = {**ingress_stack.env, "SLACK_SECRET_ARN": arn}
    del env["SLACK_SIGNING_SECRET"], env["SLACK_BOT_TOKEN"]
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SLACK_SIGNING_SECRET", raising=False)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    fetches: list[str] = []
    real_read = bot.slack.config.read_json_secret

    def counting_read(secret_arn: str, **kwargs: Any) -> dict[str, Any]:
        fetches.append(secret_arn)
        return real_read(secret_arn, **kwargs)

    monkeypatch.setattr(bot.slack.config, "read_json_secret", counting_read)

    # WHEN three requests reach the same container
    statuses = [
        slack_events.handler(signed_event(name), LambdaContext())["statusCode"]
        for name in ("app_mention", "message_im", "url_verification")
    ]

    # THEN the secret was fetched once and both questions were queued
    assert statuses == [200, 200, 200]
    assert fetches == [arn]
    assert sorted(job.job_id for job in ingress_stack.queued_jobs()) == ["Ev08ABCDEF", "Ev08DM0001"]
    assert ingress_stack.slack_api.count("auth.test") == 0


def test_prompt_api_handler_serves_post_and_get(
    ingress_stack: IngressStack, fresh_handlers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in ingress_stack.env.items():
        monkeypatch.setenv(name, value)

    posted = prompt_api.handler(load_event("prompt_post"), LambdaContext())
    job_id = json.loads(posted["body"])["job_id"]
    get = load_event("prompt_get")
    get["rawPath"] = f"/prompt/{job_id}"
    get["pathParameters"] = {"job_id": job_id}
    status = prompt_api.handler(get, LambdaContext())

    assert posted["statusCode"] == 202
    assert status["statusCode"] == 200
    assert json.loads(status["body"])["status"] == "queued"


def test_missing_configuration_is_a_clear_error(
    fresh_handlers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "SLACK_SECRET_ARN", "JOBS_QUEUE_URL"):
        monkeypatch.delenv(name, raising=False)

    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        slack_events.handler(signed("app_mention"), LambdaContext())


COLD_START = """
import json, sys

event = json.loads(sys.stdin.read())
from tests.support.events import LambdaContext
from handlers.slack_events import handler
import handlers.prompt_api
response = handler(event, LambdaContext())
heavy = [name for name in {heavy!r} if name in sys.modules]
print(json.dumps({{"status": response["statusCode"], "heavy": heavy}}))
"""


def test_cold_start_imports_neither_the_workers_libraries_nor_boto3(aws_stack: AwsStack) -> None:
    # GIVEN a fresh interpreter with the Lambda's environment, on the moto server
    env = {
        "PATH": os.environ.get("PATH", ""),
        **aws_stack.env,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
    }

    # WHEN it imports both handlers and handles its first event
    result = subprocess.run(
        [sys.executable, "-c", COLD_START.format(heavy=HEAVY_MODULES)],
        input=json.dumps(signed("app_mention")),
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=60,
        check=True,
    )

    # THEN the event was queued and no heavy module was loaded on the way
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"status": 200, "heavy": []}
    assert aws_stack.queue_depth() == (1, 0)


def test_building_the_app_keeps_the_ingress_logging_at_info(
    lambda_env: IngressStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the ingress logger at INFO, and a root logger at WARNING as on Lambda
    service = logging.getLogger(service_name())
    monkeypatch.setattr(service, "level", logging.INFO)
    monkeypatch.setattr(logging.root, "level", logging.WARNING)

    # WHEN a new container builds the app and handles a request
    slack_events.handler(signed("app_mention"), LambdaContext())

    # THEN the ingress still logs its INFO lines (Bolt did not reset the level to the root's)
    assert service.getEffectiveLevel() == logging.INFO


def test_slack_lines_carry_the_lambda_context_and_the_event_id(
    lambda_env: IngressStack, log_lines: list[dict[str, Any]]
) -> None:
    slack_events.handler(signed("app_mention"), LambdaContext())

    (queued,) = [line for line in log_lines if "queued" in str(line["message"])]
    assert queued["correlation_id"] == "Ev08ABCDEF"
    assert queued["function_request_id"] == LambdaContext.aws_request_id
    assert queued["cold_start"] in (True, False)


def test_prompt_api_lines_carry_the_job_id_it_created(
    lambda_env: IngressStack, log_lines: list[dict[str, Any]]
) -> None:
    posted = prompt_api.handler(load_event("prompt_post"), LambdaContext())

    job_id = json.loads(posted["body"])["job_id"]
    (queued,) = [line for line in log_lines if "queued" in str(line["message"])]
    assert queued["correlation_id"] == job_id
    assert queued["function_name"] == LambdaContext.function_name


def slack_lambda_env(aws_stack: AwsStack, *, trace_disabled: str) -> dict[str, str]:
    return {
        **aws_stack.env,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        "POWERTOOLS_SERVICE_NAME": "slack-ingress",
        "POWERTOOLS_TRACE_DISABLED": trace_disabled,
    }


def test_a_traced_slack_request_names_its_job_and_shows_each_aws_call(
    aws_stack: AwsStack, xray_daemon: XRayDaemon
) -> None:
    # GIVEN a sampled invocation in a new container, the Tracer enabled (XRayTracer=Enabled)
    env = slack_lambda_env(aws_stack, trace_disabled="false")

    # WHEN it handles a mention
    invocation = invoke_in_lambda("handlers.slack_events", signed("app_mention"), env, xray_daemon)

    # THEN the invocation is a subsegment of the Lambda's own segment, the job one inside it,
    # annotated with the event id, and the SQS send (the one AWS call) is a subsegment of it
    assert invocation.response["statusCode"] == 200
    subsegments = xray_daemon.subsegments()
    (handler,) = [s for s in subsegments if s["name"] == "## handler"]
    (job,) = [s for s in subsegments if s["name"] == "## job"]
    assert handler["parent_id"] == TRACE_PARENT
    assert handler["annotations"] == {"ColdStart": True, "Service": "slack-ingress"}
    assert "metadata" not in handler  # the response is not recorded
    assert job["parent_id"] == handler["id"]
    assert job["annotations"] == {"job_id": "Ev08ABCDEF"}
    calls = [(s["name"], s["aws"]["operation"], s["parent_id"]) for s in subsegments
             if s.get("namespace") == "aws"]
    assert calls == [("sqs", "SendMessage", job["id"])]
    assert {s["trace_id"] for s in subsegments} == {TRACE_ID}


def test_with_the_tracer_disabled_the_xray_sdk_is_never_imported(
    aws_stack: AwsStack, xray_daemon: XRayDaemon
) -> None:
    # GIVEN a sampled invocation in a new container, the Tracer disabled (XRayTracer=Disabled)
    env = slack_lambda_env(aws_stack, trace_disabled="true")

    # WHEN it handles a mention
    invocation = invoke_in_lambda("handlers.slack_events", signed("app_mention"), env, xray_daemon)

    # THEN the job was queued without the X-Ray SDK ever loading, and nothing was traced
    assert invocation.response["statusCode"] == 200
    assert aws_stack.queue_depth() == (1, 0)
    assert invocation.xray_loaded is False
    assert xray_daemon.subsegments() == []


def test_a_traced_prompt_is_annotated_with_the_job_it_created(
    aws_stack: AwsStack, xray_daemon: XRayDaemon
) -> None:
    env = {**aws_stack.env, "POWERTOOLS_SERVICE_NAME": "prompt-api",
           "POWERTOOLS_TRACE_DISABLED": "false"}

    invocation = invoke_in_lambda("handlers.prompt_api", load_event("prompt_post"), env,
                                  xray_daemon)

    assert invocation.response["statusCode"] == 202
    job_id = json.loads(invocation.response["body"])["job_id"]
    subsegments = xray_daemon.subsegments()
    (job,) = [s for s in subsegments if s["name"] == "## job"]
    assert job["annotations"] == {"job_id": job_id}
    assert ("sqs", "SendMessage") in {
        (s["name"], s["aws"]["operation"]) for s in subsegments if s["parent_id"] == job["id"]
    }
