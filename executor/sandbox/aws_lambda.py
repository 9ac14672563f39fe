"""The lambda backend: the code runs in a separate Lambda function (no VPC egress, a role
with nothing but its logs), which runs the local backend inside itself.

Both ends live here: `LambdaSandbox` invokes the function from the worker, and
`handle_invocation` is what the function does with the event (handlers/python_sandbox.py).
Inside the function, the scratch folder and what the code leaves in it are handled by the
local backend's own code (executor.sandbox.scratch and .outputs), so both backends refuse
the same things.
The event and the response are JSON: {"code", "inputs": {name: base64 Parquet}, "limits",
"job_id"} in (the job id only for the function's log lines), SandboxResult.to_dict() out.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from bot.observability import service_logger
from executor.sandbox.limits import Limits
from executor.sandbox.result import SandboxFailure, SandboxResult

logger = service_logger()

# A synchronous invocation's request and response are capped at 6 MB each.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
MAX_RESPONSE_FILES_BYTES = 4 * 1024 * 1024
# Time the function keeps for itself after the code's wall clock runs out.
HANDLER_MARGIN_S = 3.0
_THROTTLED = {
    "TooManyRequestsException",
    "ThrottlingException",
    "ServiceException",
    "EC2ThrottledException",
    "ResourceNotReadyException",
}


def invocation_payload(
    code: str, inputs: Mapping[str, bytes], limits: Limits, job_id: str | None = None
) -> bytes:
    """The event; `job_id`, when given, becomes the function's log correlation id."""
    return json.dumps(
        {
            "code": code,
            "inputs": {
                name: base64.b64encode(data).decode("ascii") for name, data in inputs.items()
            },
            "limits": limits.to_dict(),
            **({"job_id": job_id} if job_id else {}),
        }
    ).encode("utf-8")


class LambdaSandbox:
    def __init__(
        self,
        function_name: str,
        limits: Limits | None = None,
        *,
        client: Any = None,
        region: str | None = None,
    ) -> None:
        self.function_name = function_name
        self.limits = limits or Limits()
        self._client = client
        self._region = region

    def run(
        self, code: str, inputs: Mapping[str, bytes], limits: Limits | None = None
    ) -> SandboxResult:
        limits = limits or self.limits
        # Files come back base64-encoded in the response, which is capped at 6 MB too.
        if limits.out_bytes > MAX_RESPONSE_FILES_BYTES:
            limits = replace(limits, out_bytes=MAX_RESPONSE_FILES_BYTES)
        # The job this thread runs is its log correlation id (the worker sets it per job).
        job_id = logger.thread_safe_get_current_keys().get("correlation_id")
        payload = invocation_payload(code, inputs, limits, job_id)
        if len(payload) > MAX_PAYLOAD_BYTES:
            return _failed(
                f"the code and inputs come to {len(payload)} bytes, over the sandbox "
                f"function's {MAX_PAYLOAD_BYTES}-byte request limit; aggregate in SQL first"
            )
        from botocore.exceptions import ClientError

        try:
            response = self._lambda(limits).invoke(
                FunctionName=self.function_name,
                InvocationType="RequestResponse",
                Payload=payload,
            )
        except ClientError as e:
            code_name = e.response.get("Error", {}).get("Code", "")
            if code_name in _THROTTLED:
                # A result, not an exception: the model or the person can run it again.
                logger.warning("sandbox function throttled: %s", code_name)
                return _failed(f"the sandbox function is busy ({code_name}); try again shortly")
            logger.warning("sandbox function invoke failed: %s", code_name)
            return _failed(f"the sandbox function could not be invoked ({code_name})")
        body = response["Payload"].read()
        if response.get("FunctionError"):
            return _function_error(body)
        try:
            return SandboxResult.from_dict(json.loads(body))
        except (ValueError, TypeError, KeyError) as e:
            return _failed(f"the sandbox function returned an unreadable result: {e}")

    def _lambda(self, limits: Limits) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            config = Config(read_timeout=limits.wall_seconds + 30, retries={"max_attempts": 0})
            self._client = boto3.client("lambda", region_name=self._region, config=config)
        return self._client


def _failed(message: str, kind: str = "sandbox") -> SandboxResult:
    return SandboxResult(failure=SandboxFailure(kind, message))


def _function_error(body: bytes) -> SandboxResult:
    """The function itself failed (its timeout, out of memory, a crash): say which."""
    try:
        message = str(json.loads(body).get("errorMessage", ""))
    except (ValueError, AttributeError):
        message = body[:500].decode("utf-8", errors="replace")
    if "timed out" in message:
        return _failed(f"the sandbox function timed out: {message}", kind="timeout")
    return _failed(f"the sandbox function failed: {message or 'no message'}")


def handle_invocation(event: Any, remaining_s: float, *, sandbox: Any = None) -> dict[str, Any]:
    """Run one event in the local backend inside the function; a malformed event gets a
    failure result saying what is wrong, never an exception."""
    try:
        code, inputs, limits = _parse_event(event)
    except ValueError as e:
        return _failed(f"bad sandbox request: {e}").to_dict()
    # The function's own timeout must not cut the run short: keep a margin to answer.
    wall = max(1.0, min(limits.wall_seconds, remaining_s - HANDLER_MARGIN_S))
    limits = Limits.from_dict({**limits.to_dict(), "wall_seconds": wall})
    if sandbox is None:
        from executor.sandbox.local import LocalSandbox

        sandbox = LocalSandbox()
    return dict(sandbox.run(code, inputs, limits).to_dict())


def _parse_event(event: Any) -> tuple[str, dict[str, bytes], Limits]:
    if not isinstance(event, dict):
        raise ValueError("the event must be a JSON object")
    code = event.get("code")
    if not isinstance(code, str) or not code.strip():
        raise ValueError("`code` must be a non-empty string")
    raw_inputs = event.get("inputs") or {}
    if not isinstance(raw_inputs, dict):
        raise ValueError("`inputs` must be an object of name → base64 Parquet")
    inputs: dict[str, bytes] = {}
    for name, data in raw_inputs.items():
        try:
            inputs[str(name)] = base64.b64decode(str(data), validate=True)
        except binascii.Error as e:
            raise ValueError(f"input {name!r} is not base64: {e}") from e
    limits = event.get("limits") or {}
    if not isinstance(limits, dict):
        raise ValueError("`limits` must be an object")
    return code, inputs, Limits.from_dict(limits)
