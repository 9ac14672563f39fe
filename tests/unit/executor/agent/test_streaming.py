"""ConverseStream turns: events assembled into Converse's response, the hold-back rule for
what reaches the draft, and in-stream errors through the model chain."""

from __future__ import annotations

from typing import Any

import pytest

from executor.agent.models import ModelChain, RetryPolicy
from executor.agent.streaming import HOLD_CHARS, TextGate, read_stream
from tests.support.scripted_model import (
    ScriptedModel,
    broken,
    calls,
    client_error,
    reply,
    says,
    stream_events,
    tool_use,
)

REQUEST: dict[str, Any] = {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}
LONG = "Most users are on the free plan; " * 10


class Draft:
    """A draft sink that keeps what it was shown, and how often it was told to discard."""

    def __init__(self) -> None:
        self.text = ""
        self.writes: list[str] = []
        self.discards = 0

    def write(self, text: str) -> None:
        self.writes.append(text)
        self.text += text

    def discard(self) -> None:
        self.discards += 1
        self.text = ""


def chain(model: ScriptedModel, sleeps: list[float]) -> ModelChain:
    policy = RetryPolicy(attempts=2, base_delay_s=1.0, sleep=sleeps.append, jitter=lambda: 1.0)
    return ModelChain(model, ["model-a", "model-b"], policy, job_id="J1")


@pytest.mark.parametrize("response", [
    says("The answer is 42."),
    calls(tool_use("run_sql", {"sql": "SELECT 1", "n": [1, 2]}, "t1"), text="Let me look."),
    reply([{"text": "one"}, {"text": "two"}], "end_turn", input_tokens=7, output_tokens=3),
])
def test_the_events_assemble_into_exactly_what_converse_returns(response: dict[str, Any]
                                                                ) -> None:
    assembled = read_stream(stream_events(response), TextGate(Draft()))
    assert assembled == response


def test_reasoning_deltas_become_a_reasoning_block() -> None:
    events = [{"messageStart": {"role": "assistant"}},
              {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {
                  "reasoningContent": {"text": "think"}}}},
              {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {
                  "reasoningContent": {"signature": "sig"}}}},
              {"contentBlockDelta": {"contentBlockIndex": 1, "delta": {"text": "ok"}}},
              {"messageStop": {"stopReason": "end_turn"}}]
    draft = Draft()
    assembled = read_stream(events, TextGate(draft))
    assert assembled["output"]["message"]["content"] == [
        {"reasoningContent": {"reasoningText": {"text": "think", "signature": "sig"}}},
        {"text": "ok"}]
    assert draft.text == "ok"


def test_a_short_answer_is_shown_when_the_turn_ends_without_a_tool_call() -> None:
    draft = Draft()
    read_stream(stream_events(says("42.")), TextGate(draft))
    assert (draft.text, draft.discards) == ("42.", 0)


def test_a_long_answer_streams_once_past_the_hold_back() -> None:
    # GIVEN a turn whose text is longer than what is held back
    draft = Draft()
    gate = TextGate(draft)
    events = stream_events(says(LONG))
    # WHEN the events up to (not including) messageStop have been read
    read_stream(events[:-2], gate)
    # THEN the text was shown in several writes before the turn ended
    assert draft.text == LONG
    assert len(draft.writes) > 1
    assert len(draft.writes[0]) >= HOLD_CHARS


def test_text_before_a_tool_call_never_reaches_the_draft() -> None:
    draft = Draft()
    read_stream(stream_events(calls(tool_use("run_sql", {"sql": "SELECT 1"}),
                                    text="Let me check the users table.")), TextGate(draft))
    assert (draft.writes, draft.discards) == ([], 0)


def test_a_tool_call_after_released_text_discards_it() -> None:
    # GIVEN a turn that writes past the hold-back and then calls a tool
    draft = Draft()
    read_stream(stream_events(calls(tool_use("run_sql", {"sql": "SELECT 1"}), text=LONG)),
                TextGate(draft))
    # THEN what was shown was taken back, and nothing more was shown
    assert draft.writes and draft.discards == 1
    assert draft.text == ""


def test_a_mid_stream_throttle_after_shown_text_discards_then_retries() -> None:
    # GIVEN a stream that fails with throttlingException after showing text, then works
    model = ScriptedModel([broken(says(LONG), after=25), says(LONG)])
    draft, sleeps = Draft(), []
    # WHEN the chain streams the turn
    response, model_id = chain(model, sleeps).converse_stream(draft, **REQUEST)
    # THEN the draft was reset once, the same model was retried after a back-off
    assert draft.discards == 1
    assert sleeps == [1.0]
    assert model_id == "model-a"
    assert draft.text == LONG
    assert response["output"]["message"]["content"] == [{"text": LONG}]
    assert model.operations == ["ConverseStream", "ConverseStream"]


@pytest.mark.parametrize("code", ["modelStreamErrorException", "serviceUnavailableException",
                                  "internalServerException"])
def test_passing_in_stream_errors_are_retried(code: str) -> None:
    model = ScriptedModel([broken(says("hello"), after=2, code=code), says("hello")])
    sleeps: list[float] = []
    _, model_id = chain(model, sleeps).converse_stream(Draft(), **REQUEST)
    assert (model_id, sleeps) == ("model-a", [1.0])


def test_an_in_stream_validation_error_moves_to_the_next_model() -> None:
    model = ScriptedModel([broken(says(LONG), after=30, code="validationException"),
                           says("fine")])
    draft, sleeps = Draft(), []
    _, model_id = chain(model, sleeps).converse_stream(draft, **REQUEST)
    assert (model_id, sleeps, draft.discards, draft.text) == ("model-b", [], 1, "fine")


def test_an_error_before_the_stream_behaves_as_converse() -> None:
    model = ScriptedModel([client_error("ThrottlingException", status=429), says("ok")])
    draft, sleeps = Draft(), []
    _, model_id = chain(model, sleeps).converse_stream(draft, **REQUEST)
    assert (model_id, sleeps, draft.discards, draft.text) == ("model-a", [1.0], 0, "ok")


def test_the_stream_request_is_validated_against_converse_streams_input() -> None:
    model = ScriptedModel([says("ok")])
    with pytest.raises(Exception, match="Unknown parameter"):
        model.converse_stream(modelId="m", bogus=1, **REQUEST)
