"""A scripted Bedrock model for tests and benchmarks, and a Stubber-backed real client.

`ScriptedModel` plays a list of Converse responses (or errors) in order, optionally
sleeping per turn, records every request and validates it against bedrock-runtime's
service model, as a real client would. The `bedrock_stub` fixture gives a real
`bedrock-runtime` client with botocore's Stubber attached instead.
"""

from __future__ import annotations

import copy
import itertools
import time
from collections.abc import Iterator, Sequence
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from botocore.validate import validate_parameters

_ids = itertools.count(1)

Response = dict[str, Any]


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


class ScriptedModel:
    """Plays `responses` in order from `converse(**request)`; an Exception is raised."""

    _input_shape: Any = None

    def __init__(self, responses: Sequence[Response | Exception], *, delay_s: float = 0.0,
                 validate: bool = True) -> None:
        self._responses = list(responses)
        self._delay_s = delay_s
        self._validate = validate
        self.requests: list[dict[str, Any]] = []

    def converse(self, **request: Any) -> Response:
        if self._validate:
            validate_parameters(request, self._converse_input_shape())
        # a copy: the agent keeps appending to the message list it sent
        self.requests.append(copy.deepcopy(request))
        if not self._responses:
            raise AssertionError(f"the script ran out after {len(self.requests) - 1} calls")
        if self._delay_s:
            time.sleep(self._delay_s)
        response = self._responses.pop(0)
        if isinstance(response, Exception):
            raise response
        return response

    @property
    def remaining(self) -> int:
        return len(self._responses)

    @classmethod
    def _converse_input_shape(cls) -> Any:
        if cls._input_shape is None:
            model = botocore.session.get_session().get_service_model("bedrock-runtime")
            cls._input_shape = model.operation_model("Converse").input_shape
        return cls._input_shape


class StubbedBedrock:
    """A real bedrock-runtime client whose Converse calls are answered by a Stubber."""

    def __init__(self) -> None:
        self.client = boto3.client(
            "bedrock-runtime", region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )
        self.stubber = Stubber(self.client)
        self.requests: list[dict[str, Any]] = []
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
