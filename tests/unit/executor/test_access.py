"""Each request runs on the warehouse its session hands out, and the session ends with it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from bot.asker import Asker
from executor.artifacts import LocalArtifactStore
from executor.config import EngineConfig, ModelConfig
from executor.engine import Request
from executor.router import build_engine
from executor.verified import Library
from executor.warehouse.base import Warehouse
from executor.warehouse.duckdb import DuckDBWarehouse
from tests.support.recording_warehouse import RecordingWarehouse
from tests.support.scripted_model import ScriptedModel, answer_script
from tests.support.verified import TODAY


class _PerAsker:
    def __init__(self, inner: Warehouse) -> None:
        self.inner = inner
        self.opened: list[tuple[Asker | None, RecordingWarehouse]] = []
        self.closed = 0

    @contextmanager
    def session(self, request: Request) -> Iterator[Warehouse]:
        warehouse = RecordingWarehouse(self.inner)
        self.opened.append((request.asker, warehouse))
        try:
            yield warehouse  # type: ignore[misc]
        finally:
            self.closed += 1


def _engine(config: EngineConfig, library: Library, warehouse: DuckDBWarehouse,
            access: _PerAsker, model: ScriptedModel | None) -> Any:
    return build_engine(
        replace(config, model=ModelConfig(provider="offline" if model is None else "bedrock")),
        warehouse=warehouse, artifacts=LocalArtifactStore(config.artifacts.results_dir),
        bedrock_client=model, library=library, today=lambda: TODAY, access=access,
    )


ASKER = Asker("slack", "U0001", "T0001", "C0001")


def test_a_verified_answer_runs_on_the_session_warehouse(
    offline_config: EngineConfig, verified_library: Library, duckdb_sample: DuckDBWarehouse
) -> None:
    access = _PerAsker(duckdb_sample)
    engine = _engine(offline_config, verified_library, duckdb_sample, access, None)
    answer = engine.answer(Request(job_id="a1", question="how many users are on each plan?",
                                   asker=ASKER))
    assert answer.verified is True
    [(asker, session)] = access.opened
    assert asker == ASKER and access.closed == 1
    assert any("plan" in sql for sql in session.statements)


def test_the_agent_runs_on_the_session_warehouse(
    offline_config: EngineConfig, verified_library: Library, duckdb_sample: DuckDBWarehouse
) -> None:
    sql = "SELECT country, COUNT(*) AS users FROM users GROUP BY 1"
    model = ScriptedModel(answer_script(sql, "Most users are in the US."))
    access = _PerAsker(duckdb_sample)
    engine = _engine(offline_config, verified_library, duckdb_sample, access, model)
    engine.answer(Request(job_id="a2", question="users per country in a list", asker=ASKER))
    [(_, session)] = access.opened
    assert access.closed == 1
    assert any("GROUP BY 1" in statement for statement in session.statements)


def test_a_scope_reply_opens_no_session(
    offline_config: EngineConfig, verified_library: Library, duckdb_sample: DuckDBWarehouse
) -> None:
    access = _PerAsker(duckdb_sample)
    engine = _engine(offline_config, verified_library, duckdb_sample, access, None)
    engine.answer(Request(job_id="a3", question="delete the users table", asker=ASKER))
    assert access.opened == []
