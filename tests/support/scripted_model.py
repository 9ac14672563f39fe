"""A scripted Bedrock model for tests and benchmarks, and a Stubber-backed real client.

`ScriptedModel` plays a list of Converse responses (or errors) in order, optionally
sleeping per turn, records every request and validates it against bedrock-runtime's
service model, as a real client would. Through `converse_stream` it plays the same
responses as ConverseStream events (text in small deltas, tool input as JSON pieces, the
turn's delay spread over them); `broken(response, after=n)` fails such a stream after n
events with an in-stream error, as botocore raises it. The `bedrock_stub` fixture gives a real
`bedrock-runtime` client with botocore's Stubber attached instead.
"""

from __future__ import annotations

import copy
import itertools
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError, EventStreamError
from botocore.stub import Stubber
from botocore.validate import validate_parameters

_ids = itertools.count(1)

Response = dict[str, Any]
Event = dict[str, Any]
# Characters per streamed text delta (Bedrock sends a few tokens per event).
DELTA_CHARS = 12


def reply(
    content: list[dict[str, Any]],
    stop_reason: str,
    *,
    input_tokens: int = 1000,
    output_tokens: int = 100,
) -> Response:
    """A complete Converse response, shaped as the service model requires."""
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop_reason,
        "usage": {
            "inputTokens": input_tokens,
            "outputTokens": output_tokens,
            "totalTokens": input_tokens + output_tokens,
        },
        "metrics": {"latencyMs": 400},
    }


def tool_use(name: str, tool_input: dict[str, Any], tool_use_id: str | None = None
             ) -> dict[str, Any]:
    return {"toolUse": {"toolUseId": tool_use_id or f"tooluse_{next(_ids)}", "name": name,
                        "input": tool_input}}


def calls(*blocks: dict[str, Any], text: str | None = None) -> Response:
    """The model asks for tools (optionally saying something first)."""
    content = ([{"text": text}] if text else []) + list(blocks)
    return reply(content, "tool_use")


def run_sql(sql: str) -> Response:
    return calls(tool_use("run_sql", {"sql": sql}))


def says(text: str) -> Response:
    """The model's final text."""
    return reply([{"text": text}], "end_turn")


def answer_script(sql: str, text: str) -> list[Response]:
    """The usual three calls: run the SQL, draft the answer, confirm it on reflection."""
    return [run_sql(sql), says(text), says(text)]


def client_error(code: str, message: str = "", status: int = 400) -> ClientError:
    """A ClientError as botocore raises it for a bedrock-runtime error response."""
    response: Any = {"Error": {"Code": code, "Message": message or code},
                     "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "Converse")


@dataclass(frozen=True)
class Broken:
    """A streamed turn that fails after `after` events with the in-stream error `code`."""

    response: Response
    after: int
    code: str


def broken(response: Response, *, after: int, code: str = "throttlingException") -> Broken:
    return Broken(response, after, code)


def stream_events(response: Response) -> list[Event]:
    """A Converse response as the ConverseStream events that carry it."""
    events: list[Event] = [{"messageStart": {"role": "assistant"}}]
    for index, block in enumerate(response["output"]["message"]["content"]):
        if "toolUse" in block:
            use = block["toolUse"]
            events.append({"contentBlockStart": {"contentBlockIndex": index, "start": {
                "toolUse": {"toolUseId": use["toolUseId"], "name": use["name"]}}}})
            raw = json.dumps(use["input"])
            events += [{"contentBlockDelta": {"contentBlockIndex": index, "delta": {
                "toolUse": {"input": raw[i:i + DELTA_CHARS]}}}}
                for i in range(0, len(raw), DELTA_CHARS)]
        else:
            text = block["text"]
            events += [{"contentBlockDelta": {"contentBlockIndex": index, "delta": {
                "text": text[i:i + DELTA_CHARS]}}} for i in range(0, len(text), DELTA_CHARS)]
        events.append({"contentBlockStop": {"contentBlockIndex": index}})
    events.append({"messageStop": {"stopReason": response["stopReason"]}})
    events.append({"metadata": {"usage": response["usage"], "metrics": response["metrics"]}})
    return events


class ScriptedModel:
    """Plays `responses` in order from `converse(**request)` or `converse_stream`; an
    Exception is raised."""

    _input_shapes: ClassVar[dict[str, Any]] = {}

    def __init__(self, responses: Sequence[Response | Broken | Exception], *, delay_s: float = 0.0,
                 validate: bool = True) -> None:
        self._responses = list(responses)
        self._delay_s = delay_s
        self._validate = validate
        self.requests: list[dict[str, Any]] = []
        # "Converse" or "ConverseStream", per request.
        self.operations: list[str] = []

    def converse(self, **request: Any) -> Response:
        response = self._next("Converse", request)
        if self._delay_s:
            time.sleep(self._delay_s)
        if isinstance(response, Exception):
            raise response
        if isinstance(response, Broken):
            raise AssertionError("a broken stream was scripted, but converse was called")
        return response

    def converse_stream(self, **request: Any) -> dict[str, Any]:
        response = self._next("ConverseStream", request)
        if isinstance(response, Exception):
            if self._delay_s:
                time.sleep(self._delay_s)
            raise response
        return {"stream": self._play(response)}

    def _next(self, operation: str, request: dict[str, Any]) -> Response | Broken | Exception:
        if self._validate:
            validate_parameters(request, self._input_shape(operation))
        # a copy: the agent keeps appending to the message list it sent
        self.requests.append(copy.deepcopy(request))
        self.operations.append(operation)
        if not self._responses:
            raise AssertionError(f"the script ran out after {len(self.requests) - 1} calls")
        return self._responses.pop(0)

    def _play(self, scripted: Response | Broken) -> Iterator[Event]:
        """The events, half the turn's delay before the first (time to first token) and
        the rest spread over the others."""
        response = scripted.response if isinstance(scripted, Broken) else scripted
        events = stream_events(response)
        if isinstance(scripted, Broken):
            events = events[:scripted.after]
        # Each event waits for its moment on one schedule, so oversleeping does not add up.
        started = time.monotonic()
        pause = self._delay_s / 2 / max(len(events) - 1, 1)
        for number, event in enumerate(events):
            if self._delay_s:
                due = started + self._delay_s / 2 + pause * number
                time.sleep(max(due - time.monotonic(), 0))
            yield event
        if isinstance(scripted, Broken):
            raise EventStreamError({"Error": {"Code": scripted.code, "Message": "scripted"}},
                                   "ConverseStream")

    @property
    def remaining(self) -> int:
        return len(self._responses)

    @classmethod
    def _input_shape(cls, operation: str) -> Any:
        if operation not in cls._input_shapes:
            model = botocore.session.get_session().get_service_model("bedrock-runtime")
            cls._input_shapes[operation] = model.operation_model(operation).input_shape
        return cls._input_shapes[operation]


class StubbedBedrock:
    """A real bedrock-runtime client whose Converse calls are answered by a Stubber."""

    def __init__(self) -> None:
        self.client = boto3.client(
            "bedrock-runtime", region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )
        self.stubber = Stubber(self.client)
        self.requests: list[dict[str, Any]] = []
        # "Converse" or "ConverseStream", per request.
        self.operations: list[str] = []
        self.client.meta.events.register(
            "provide-client-params.bedrock-runtime.Converse", self._record
        )

    def _record(self, params: dict[str, Any], **_: Any) -> None:
        self.requests.append(copy.deepcopy(params))

    def play(self, *responses: Response | ClientError) -> None:
        for response in responses:
            if isinstance(response, ClientError):
                error = response.response["Error"]
                self.stubber.add_client_error(
                    "converse",
                    service_error_code=error["Code"],
                    service_message=error["Message"],
                    http_status_code=response.response["ResponseMetadata"]["HTTPStatusCode"],
                )
            else:
                self.stubber.add_response("converse", response)


@pytest.fixture
def bedrock_stub() -> Iterator[StubbedBedrock]:
    stub = StubbedBedrock()
    with stub.stubber:
        yield stub
        stub.stubber.assert_no_pending_responses()
