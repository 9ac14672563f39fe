"""The lambda backend: the invoke through a real boto3 client with botocore's Stubber, and
the function's handler called directly (it runs the local backend inside the function)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from bot.observability import correlated, service_logger
from executor.config import SandboxConfig
from executor.sandbox import Limits, SandboxResult, open_sandbox
from executor.sandbox.aws_lambda import (
    MAX_PAYLOAD_BYTES,
    MAX_RESPONSE_FILES_BYTES,
    LambdaSandbox,
    handle_invocation,
    invocation_payload,
)
from handlers import python_sandbox
from tests.support.events import LambdaContext
from tests.support.sandbox import ACCEPTANCE, DIVIDE_BY_ZERO

FUNCTION = "databot-python-sandbox"


@pytest.fixture
def lambda_client() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "lambda",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def invoke_response(body: bytes, **extra: Any) -> dict[str, Any]:
    return {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(body), len(body)), **extra}


def test_the_handler_runs_the_code_and_the_worker_reads_its_answer(
    lambda_client: tuple[Any, Stubber],
) -> None:
    client, stubber = lambda_client
    code, expected = ACCEPTANCE["Sum of the first 10 prime numbers"]
    limits = Limits(wall_seconds=20)
    # GIVEN the function's answer to exactly the request the worker sends (with the files
    # it returns capped to fit Lambda's response limit)
    payload = invocation_payload(code, {}, replace(limits, out_bytes=MAX_RESPONSE_FILES_BYTES))
    answered = handle_invocation(json.loads(payload), remaining_s=30)
    stubber.add_response(
        "invoke",
        invoke_response(json.dumps(answered).encode()),
        {"FunctionName": FUNCTION, "InvocationType": "RequestResponse", "Payload": payload},
    )
    # WHEN the worker runs the code on the lambda backend
    result = LambdaSandbox(FUNCTION, limits, client=client).run(code, {})
    # THEN it gets the same result shape the local backend gives
    assert result.ok, result.failure
    assert result.stdout.strip() == expected and result.result == int(expected)
    assert result == SandboxResult.from_dict(answered)


def test_handler_entry_point_reports_errors_as_data() -> None:
    context = SimpleNamespace(
        get_remaining_time_in_millis=lambda: 30_000,
        function_name=FUNCTION,
        memory_limit_in_mb=1024,
        invoked_function_arn="arn",
        aws_request_id="r1",
    )
    answered = python_sandbox.handler({"code": DIVIDE_BY_ZERO}, context)
    failure = SandboxResult.from_dict(answered).failure
    assert failure is not None and failure.type == "ZeroDivisionError"


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ("not an object", "the event must be a JSON object"),
        ({"code": ""}, "`code` must be a non-empty string"),
        ({"code": "pass", "inputs": ["q1"]}, "`inputs` must be an object"),
        ({"code": "pass", "inputs": {"q1": "%%%"}}, "input 'q1' is not base64"),
        ({"code": "pass", "limits": {"cpu_seconds": -1}}, "must be a positive number"),
        ({"code": "pass", "limits": {"gpus": 1}}, "unknown sandbox limits: gpus"),
    ],
)
def test_a_malformed_event_gets_a_clear_failure(event: Any, reason: str) -> None:
    failure = SandboxResult.from_dict(handle_invocation(event, remaining_s=30)).failure
    assert failure is not None and failure.kind == "sandbox"
    assert reason in failure.message


def test_the_wall_clock_is_kept_inside_the_function_timeout() -> None:
    seen: list[Limits] = []

    class Recorder:
        def run(self, code: str, inputs: Any, limits: Limits) -> SandboxResult:
            seen.append(limits)
            return SandboxResult(stdout="ran")

    event = json.loads(invocation_payload("pass", {}, Limits(wall_seconds=60)))
    handle_invocation(event, remaining_s=29.5, sandbox=Recorder())
    assert seen[0].wall_seconds == pytest.approx(26.5)


def test_function_timeout_is_reported_as_a_timeout(lambda_client: tuple[Any, Stubber]) -> None:
    client, stubber = lambda_client
    body = json.dumps({"errorMessage": "2026-11-21T18:00:00Z Task timed out after 30.03 seconds"})
    stubber.add_response("invoke", invoke_response(body.encode(), FunctionError="Unhandled"))
    result = LambdaSandbox(FUNCTION, client=client).run("while True: pass", {})
    assert result.failure is not None and result.failure.kind == "timeout"
    assert "timed out" in result.failure.message


def test_a_function_crash_is_a_sandbox_failure(lambda_client: tuple[Any, Stubber]) -> None:
    client, stubber = lambda_client
    body = json.dumps({"errorMessage": "Runtime exited with error: signal: killed"})
    stubber.add_response("invoke", invoke_response(body.encode(), FunctionError="Unhandled"))
    result = LambdaSandbox(FUNCTION, client=client).run("x", {})
    assert result.failure is not None and result.failure.kind == "sandbox"
    assert "signal: killed" in result.failure.message


def test_throttling_is_transient(lambda_client: tuple[Any, Stubber]) -> None:
    client, stubber = lambda_client
    stubber.add_client_error("invoke", "TooManyRequestsException", http_status_code=429)
    # A failed result the agent hands back to the model, not an exception out of the tool
    result = LambdaSandbox(FUNCTION, client=client).run("pass", {})
    assert result.failure is not None and result.failure.kind == "sandbox"
    assert "busy (TooManyRequestsException); try again shortly" in result.failure.message


def test_other_invoke_errors_are_a_failure(lambda_client: tuple[Any, Stubber]) -> None:
    client, stubber = lambda_client
    stubber.add_client_error("invoke", "ResourceNotFoundException", http_status_code=404)
    result = LambdaSandbox(FUNCTION, client=client).run("pass", {})
    assert result.failure is not None and "ResourceNotFoundException" in result.failure.message


def test_inputs_over_the_request_limit_are_refused_without_invoking(
    lambda_client: tuple[Any, Stubber],
) -> None:
    client, _ = lambda_client  # no response queued: an invoke would fail the test
    result = LambdaSandbox(FUNCTION, client=client).run("pass", {"q1": b"x" * MAX_PAYLOAD_BYTES})
    assert result.failure is not None and "request limit" in result.failure.message


def test_open_sandbox_picks_the_backend_from_settings(
    lambda_client: tuple[Any, Stubber],
) -> None:
    client, _ = lambda_client
    chosen = open_sandbox(
        SandboxConfig(backend="lambda", function_name=FUNCTION, limits=Limits(cpu_seconds=5)),
        lambda_client=client,
    )
    assert isinstance(chosen, LambdaSandbox) and chosen.limits.cpu_seconds == 5
    with pytest.raises(ValueError, match="needs SANDBOX_FUNCTION_NAME"):
        open_sandbox(SandboxConfig(backend="lambda"))
    with pytest.raises(ValueError, match="unknown SANDBOX_BACKEND 'docker'"):
        open_sandbox(SandboxConfig(backend="docker"))


def test_the_invocation_carries_the_job_its_worker_thread_runs(
    lambda_client: tuple[Any, Stubber],
) -> None:
    # GIVEN a worker thread running job Ev08ABCDEF (its log correlation id)
    client, stubber = lambda_client
    limits = replace(Limits(), out_bytes=MAX_RESPONSE_FILES_BYTES)
    payload = invocation_payload("pass", {}, limits, job_id="Ev08ABCDEF")
    answered = json.dumps(SandboxResult(stdout="").to_dict()).encode()
    stubber.add_response(
        "invoke",
        invoke_response(answered),
        {"FunctionName": FUNCTION, "InvocationType": "RequestResponse", "Payload": payload},
    )
    logger = service_logger()
    # WHEN it runs code on the lambda backend
    with correlated(logger, "Ev08ABCDEF"):
        LambdaSandbox(FUNCTION, client=client).run("pass", {})
    # THEN the function is invoked with the job id, which its handler logs as correlation id
    stubber.assert_no_pending_responses()
    assert json.loads(payload)["job_id"] == "Ev08ABCDEF"


def test_the_sandbox_functions_lines_carry_the_job_id(log_lines: list[dict[str, Any]]) -> None:
    event = json.loads(invocation_payload("print(1)", {}, Limits(), job_id="Ev08ABCDEF"))
    event["limits"] = "not limits"  # answered with a logged failure, no run needed

    try:
        python_sandbox.handler(event, LambdaContext(function_name=FUNCTION))
        python_sandbox.logger.info("a line of this invocation")
    finally:
        python_sandbox.logger.set_correlation_id(None)  # the next invocation sets its own

    assert log_lines[-1]["correlation_id"] == "Ev08ABCDEF"
    assert log_lines[-1]["function_name"] == FUNCTION
