"""The router: the verified library first, the Bedrock agent (a scripted model here) for
the rest when configured, else "needs a model"."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from executor import agent
from executor.artifacts import LocalArtifactStore
from executor.config import EngineConfig, ModelConfig
from executor.engine import Request
from executor.errors import ModelUnavailable, NeedsModel
from executor.router import RoutedEngine, build_engine, build_warm_engine
from executor.verified import Library
from executor.warehouse.duckdb import DuckDBWarehouse
from tests.support.review import AGENT_SQL, QUESTION, agent_proposal, review_desk, verify_review
from tests.support.scripted_model import ScriptedModel, answer_script
from tests.support.verified import TODAY


def _engine(
    config: EngineConfig,
    library: Library,
    warehouse: DuckDBWarehouse,
    model: ScriptedModel | None = None,
) -> RoutedEngine:
    """The router as configured with Bedrock (`model` as its client), or offline."""
    return build_engine(
        replace(config, model=ModelConfig(provider="offline" if model is None else "bedrock")),
        warehouse=warehouse,
        artifacts=LocalArtifactStore(config.artifacts.results_dir),
        bedrock_client=model,
        library=library,
        today=lambda: TODAY,
    )


def test_library_answers_without_calling_the_model(
    offline_config: EngineConfig, verified_library: Library, duckdb_sample: DuckDBWarehouse
) -> None:
    # GIVEN Bedrock configured, with a model that has nothing to say
    model = ScriptedModel([])
    engine = _engine(offline_config, verified_library, duckdb_sample, model)
    # WHEN a covered question is asked THEN the library answers and the model is never called
    answer = engine.answer(Request(job_id="r1", question="how many users are on each plan?"))
    assert answer.verified is True and model.requests == []


def test_other_questions_go_to_the_agent_with_examples(
    offline_config: EngineConfig, verified_library: Library, duckdb_sample: DuckDBWarehouse
) -> None:
    # GIVEN Bedrock configured and a question the library does not cover
    sql = (
        "SELECT country, AVG(revenue) AS revenue_per_purchase "
        "FROM interactions JOIN users USING (user_id) GROUP BY 1"
    )
    model = ScriptedModel(answer_script(sql, "Revenue per purchase is highest in Japan."))
    engine = _engine(offline_config, verified_library, duckdb_sample, model)
    # WHEN it is asked
    answer = engine.answer(Request(job_id="r2", question="revenue per user by country"))
    # THEN the agent answers, with the closest verified entries in its prompt as examples
    assert answer.verified is False and answer.text.startswith("Revenue per purchase")
    system = " ".join(block["text"] for block in model.requests[0]["system"] if "text" in block)
    assert "Verified queries for similar questions" in system
    assert "Q: What is revenue by country?" in system


def test_offline_without_a_match_needs_a_model(
    offline_config: EngineConfig, verified_library: Library, duckdb_sample: DuckDBWarehouse
) -> None:
    engine = _engine(offline_config, verified_library, duckdb_sample)
    assert engine.uses_model is False
    with pytest.raises(NeedsModel, match="needs the AI model, which is not configured here"):
        engine.answer(Request(job_id="r3", question="revenue per user by country"))


@pytest.mark.parametrize("configured", [False, True])
@pytest.mark.parametrize(
    ("text", "reply"),
    [("delete every churned user", "databot only reads data"),
     ("DROP TABLE users", "databot only reads data"),
     ("thanks!", "Hi! I'm databot")],
)
def test_out_of_scope_requests_get_a_plain_reply_without_model_or_query(
    offline_config: EngineConfig,
    verified_library: Library,
    duckdb_sample: DuckDBWarehouse,
    configured: bool,
    text: str,
    reply: str,
) -> None:
    # GIVEN a model that has nothing to say, or no model
    model = ScriptedModel([]) if configured else None
    engine = _engine(offline_config, verified_library, duckdb_sample, model)
    # WHEN a request to change data, or small talk, arrives
    answer = engine.answer(Request(job_id="r6", question=text))
    # THEN it is answered in plain words, with no SQL run and no model called
    assert answer.text.startswith(reply) and answer.sql == [] and answer.verified is False
    assert model is None or model.requests == []


@pytest.mark.parametrize("warmed", [False, True])
def test_library_answers_even_when_bedrock_is_misconfigured(
    offline_config: EngineConfig,
    verified_library: Library,
    duckdb_sample: DuckDBWarehouse,
    monkeypatch: pytest.MonkeyPatch,
    warmed: bool,
) -> None:
    # GIVEN Bedrock chosen but no AWS region anywhere
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    engine = build_engine(
        replace(offline_config, model=ModelConfig(provider="bedrock", region=None)),
        warehouse=duckdb_sample,
        library=verified_library,
        today=lambda: TODAY,
    )
    # (a worker warms its engine up at start: an agent that cannot be built is left to
    # the first question that needs it)
    if warmed:
        engine.warm_up()
    # WHEN a covered question is asked THEN the library answers it
    assert engine.answer(Request(job_id="r4", question="users by plan")).verified is True
    # and only a question for the model says what is missing
    with pytest.raises(ModelUnavailable) as raised:
        engine.answer(Request(job_id="r5", question="revenue per user by country"))
    assert raised.value.detail == "Bedrock needs an AWS region: set AWS_REGION"


def test_warm_up_builds_the_agent_without_calling_the_model(
    offline_config: EngineConfig,
    verified_library: Library,
    duckdb_sample: DuckDBWarehouse,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built = count_agents_built(monkeypatch)
    # GIVEN Bedrock configured
    model = ScriptedModel(answer_script("SELECT 1 AS one", "One."))
    engine = _engine(offline_config, verified_library, duckdb_sample, model)
    # WHEN the engine warms up THEN the agent is built, and the model not called
    engine.warm_up()
    assert len(built) == 1 and model.requests == []
    # AND the first question for the model uses that agent
    engine.answer(Request(job_id="w1", question="revenue per user by country"))
    assert len(built) == 1 and model.requests


def test_the_workers_engine_is_warm(
    offline_config: EngineConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = count_agents_built(monkeypatch)
    # GIVEN Bedrock configured (a region; no call is made)
    config = replace(offline_config, model=ModelConfig(provider="bedrock", region="us-east-1"))
    # WHEN the worker's engine factory builds it THEN its agent is built already
    build_warm_engine(config)
    assert len(built) == 1


def count_agents_built(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Agents built from here on (executor.agent.create_agent, spied on)."""
    built: list[object] = []
    create = agent.create_agent

    def spy(*args: Any, **kwargs: Any) -> Any:
        built.append(create(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(agent, "create_agent", spy)
    return built


def test_an_unknown_provider_is_refused(offline_config: EngineConfig) -> None:
    with pytest.raises(
        ValueError, match="MODEL_PROVIDER must be one of bedrock, offline, got 'gpt'"
    ):
        build_engine(replace(offline_config, model=ModelConfig(provider="gpt")))


def test_agent_answers_carry_the_entry_a_reviewer_would_verify(
    offline_config: EngineConfig, verified_library: Library, duckdb_sample: DuckDBWarehouse
) -> None:
    # GIVEN Bedrock configured and a question with a device, a country and a period
    model = ScriptedModel(answer_script(AGENT_SQL, "**2** purchases."))
    engine = _engine(offline_config, verified_library, duckdb_sample, model)
    # WHEN the agent answers it
    answer = engine.answer(Request(job_id="r7", question=QUESTION))
    # THEN the answer proposes the entry with those values as parameters
    assert answer.proposal is not None and answer.proposal.question == QUESTION
    assert [p.name for p in answer.proposal.params] == ["device", "country", "period"]
    # AND a library answer proposes none
    verified = engine.answer(Request(job_id="r8", question="how many users are on each plan?"))
    assert verified.verified and verified.proposal is None


def test_entries_in_the_configured_store_are_served(
    offline_config: EngineConfig, verified_library: Library, duckdb_sample: DuckDBWarehouse,
) -> None:
    # GIVEN an entry verified into the results folder's store
    desk = review_desk(verified_library, offline_config.artifacts.results_dir.parent)
    desk.desk.verify(verify_review(agent_proposal(desk.live)), job_id="J1")
    # WHEN an engine is built from the configuration THEN it answers from the entry offline
    engine = _engine(offline_config, verified_library, duckdb_sample)
    answer = engine.answer(Request(job_id="r9", question=QUESTION))
    assert answer.verified and answer.entry_id == agent_proposal(desk.live).name
