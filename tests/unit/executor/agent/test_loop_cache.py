"""The agent's requests and prompt caching: the cache points, the stable prefix across turns
and follow-ups, the per-question parts after it, and the cache usage recorded and priced."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.delivery import Viewing
from executor.agent import create_agent
from executor.agent.caching import CACHE_POINT
from executor.artifacts import ArtifactStore, open_artifact_store
from executor.config import ArtifactsConfig, ModelConfig, SandboxConfig
from executor.engine import Engine, Request, Turn
from executor.warehouse.base import Warehouse
from tests.support.caching_model import CachingModel
from tests.support.scripted_model import (
    ScriptedModel,
    StubbedBedrock,
    answer_script,
    client_error,
    reply,
    says,
)

SONNET = "us.anthropic.claude-sonnet-4-20250514-v1:0"
NOVA = "us.amazon.nova-pro-v1:0"
PLANS_SQL = "SELECT plan, COUNT(*) AS users FROM users GROUP BY plan ORDER BY plan"
MONTHS_SQL = ("SELECT DATE_TRUNC('month', signup_date) AS month, COUNT(*) AS signups "
              "FROM users GROUP BY 1 ORDER BY 1")
PLANS_Q = "How many users are on each plan?"
MONTHS_Q = "And signups per month?"


@dataclass(frozen=True)
class Example:
    question: str
    sql: str


def examples_for(question: str) -> Sequence[Example]:
    """A different worked example for each question."""
    return [Example(f"Like: {question}", f"SELECT 1 -- {question}")]


@pytest.fixture
def artifacts(tmp_path: Path) -> ArtifactStore:
    return open_artifact_store(ArtifactsConfig(results_dir=tmp_path / "results"))


def agent(client: Any, warehouse: Warehouse, artifacts: ArtifactStore, **config: Any) -> Engine:
    model = ModelConfig(**{"model_ids": (SONNET, NOVA), **config})
    return create_agent(model, SandboxConfig(), warehouse, artifacts, client=client,
                        examples=examples_for)


def conversation(engine: Engine) -> None:
    """A question, then a follow-up beside a channel."""
    engine.answer(Request(job_id="J1", question=PLANS_Q))
    engine.answer(Request(
        job_id="J2", question=MONTHS_Q, history=[Turn(PLANS_Q, [PLANS_SQL], "Free leads.")],
        viewing=Viewing("C0REV", name="revenue-reports")))


def cache_points(request: dict[str, Any]) -> list[str]:
    """Where the request's cache points are: "tools" and/or "system"."""
    return [where for where, blocks in (("tools", request["toolConfig"]["tools"]),
                                        ("system", request["system"]))
            for block in blocks if "cachePoint" in block]


def test_a_request_with_cache_points_passes_botocores_validation(
    bedrock_stub: StubbedBedrock,
) -> None:
    # GIVEN a Converse request with a cache point after the tool specs and in the system
    bedrock_stub.play(says("ok"))
    tool = {"toolSpec": {"name": "run_sql", "inputSchema": {"json": {"type": "object"}}}}
    # WHEN it is sent through a real client THEN the Stubber accepts its shape
    bedrock_stub.client.converse(
        modelId=SONNET, messages=[{"role": "user", "content": [{"text": "q"}]}],
        system=[{"text": "stable"}, CACHE_POINT, {"text": "per question"}],
        toolConfig={"tools": [tool, CACHE_POINT]})


def test_the_agent_sends_cache_points_a_real_client_accepts(
        bedrock_stub: StubbedBedrock, sample_warehouse: Warehouse,
        artifacts: ArtifactStore) -> None:
    # GIVEN Claude Sonnet 4 answering through a real client validated by the Stubber
    bedrock_stub.play(*answer_script(PLANS_SQL, "Free leads."))
    agent(bedrock_stub.client, sample_warehouse, artifacts).answer(
        Request(job_id="J1", question=PLANS_Q))
    # THEN every request carries the point after the stable part of the system prompt
    for request in bedrock_stub.requests:
        assert request["system"][1] == CACHE_POINT
        assert "system" in cache_points(request)


def test_the_prefix_is_byte_identical_across_turns_and_a_follow_up(
        sample_warehouse: Warehouse, artifacts: ArtifactStore) -> None:
    # GIVEN a question and a follow-up, three model calls each
    model = ScriptedModel([*answer_script(PLANS_SQL, "Free leads."),
                           *answer_script(MONTHS_SQL, "Signups grow.")])
    # WHEN they are answered (with a different worked example closest to each question)
    conversation(agent(model, sample_warehouse, artifacts))
    requests = model.requests
    assert len(requests) == 6
    # THEN the tool specs and the stable system part are the same bytes in all six requests
    assert all(request["toolConfig"] == requests[0]["toolConfig"] for request in requests)
    stable = {request["system"][0]["text"] for request in requests}
    assert len(stable) == 1
    # AND it holds the schema and the first question's example, nothing per question
    (text,) = stable
    assert '"name": "users"' in text and f"Q: Like: {PLANS_Q}" in text
    assert "Today's date is" not in text and "C0REV" not in text
    assert f"Like: {MONTHS_Q}" not in text
    # AND what changes per question comes after the cache point: the dates, the follow-up's
    # own example and the channel viewed
    first, follow_up = requests[0]["system"][2]["text"], requests[3]["system"][2]["text"]
    assert first.startswith(f"Dates:\nToday's date is {date.today().isoformat()}.")
    assert f"Q: Like: {MONTHS_Q}" in follow_up and follow_up.endswith(
        '{"id": "C0REV", "name": "revenue-reports"}')
    assert "C0REV" not in first


def test_the_fallback_model_gets_the_cache_points_it_takes(
        sample_warehouse: Warehouse, artifacts: ArtifactStore) -> None:
    # GIVEN Claude Sonnet 4 busy, so the chain moves on to Nova Pro
    busy = client_error("ThrottlingException", status=429)
    model = ScriptedModel([busy, busy, busy, *answer_script(PLANS_SQL, "Free leads.")])
    engine = agent(model, sample_warehouse, artifacts)
    engine.answer(Request(job_id="J1", question=PLANS_Q))
    # THEN Sonnet was offered points in the tools and the system; Nova in the system only
    sonnet, nova = model.requests[0], model.requests[3]
    assert (sonnet["modelId"], nova["modelId"]) == (SONNET, NOVA)
    assert "system" in cache_points(sonnet)
    assert cache_points(nova) == ["system"]


def test_prompt_cache_off_sends_no_cache_points(
        sample_warehouse: Warehouse, artifacts: ArtifactStore) -> None:
    model = ScriptedModel(answer_script(PLANS_SQL, "Free leads."))
    agent(model, sample_warehouse, artifacts, prompt_cache=False).answer(
        Request(job_id="J1", question=PLANS_Q))
    assert all(cache_points(request) == [] for request in model.requests)


def test_a_model_without_caching_gets_no_cache_points(
        sample_warehouse: Warehouse, artifacts: ArtifactStore) -> None:
    model = ScriptedModel(answer_script(PLANS_SQL, "Free leads."))
    agent(model, sample_warehouse, artifacts,
          model_ids=("anthropic.claude-3-5-sonnet-20241022-v2:0",)).answer(
        Request(job_id="J1", question=PLANS_Q))
    assert all(cache_points(request) == [] for request in model.requests)


class Draft:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def discard(self) -> None:
        self.text = ""


def test_cache_usage_is_recorded_and_priced_from_converse_and_converse_stream(
        sample_warehouse: Warehouse, artifacts: ArtifactStore) -> None:
    # GIVEN a model billing its prompts as Bedrock's cache does; the turns that may be the
    # answer stream
    model = CachingModel(answer_script(PLANS_SQL, "Free leads."))
    engine = agent(model, sample_warehouse, artifacts)
    answer = engine.answer(Request(job_id="J1", question=PLANS_Q, draft=Draft()))
    assert model.operations == ["ConverseStream", "Converse", "ConverseStream"]
    # THEN the first call wrote the prefix to the cache and the two after it read it
    calls = model.usages
    assert [call["cacheWriteInputTokens"] > 0 for call in calls] == [True, False, False]
    written = answer.usage.cache_write_tokens
    assert written > 1_024 and answer.usage.cache_read_tokens == 2 * written
    # AND the usage adds up all three calls, the streamed one included, each rate apart
    full = sum(call["inputTokens"] for call in calls)
    assert answer.usage.input_tokens == full
    assert answer.usage.cost_usd == pytest.approx(
        (full * 3 + answer.usage.output_tokens * 15 + written * 3.75
         + 2 * written * 0.3) / 1e6, abs=1e-6)


def test_cache_usage_from_a_stream_reaches_the_answer(
        sample_warehouse: Warehouse, artifacts: ArtifactStore) -> None:
    # GIVEN a single streamed turn that reports reads and writes in its metadata
    response = reply([{"text": "Hello."}], "end_turn", input_tokens=40, output_tokens=5)
    response["usage"].update(cacheReadInputTokens=2_000, cacheWriteInputTokens=300)
    model = ScriptedModel([response])
    answer = agent(model, sample_warehouse, artifacts).answer(
        Request(job_id="J1", question="hello", draft=Draft()))
    # THEN the answer's usage holds them
    assert model.operations == ["ConverseStream"]
    usage = answer.usage
    assert (usage.input_tokens, usage.cache_read_tokens, usage.cache_write_tokens) == (
        40, 2_000, 300)
