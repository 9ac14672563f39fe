"""Every statement an answer runs is recorded under its job and asker, on whatever
warehouse the engine's access hands out: verified answers, the agent's queries and exports,
guard refusals and database errors; a failing audit store never fails the answer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.asker import Asker
from executor.access import SharedAccess
from executor.artifacts import LocalArtifactStore
from executor.config import DEFAULT_INPUT, EngineConfig, ModelConfig
from executor.engine import Request
from executor.errors import UnsafeSQL, WarehouseError
from executor.governance.audit_record import sql_sha256
from executor.governance.audit_trail import AuditTrail
from executor.governance.audited import AuditedAccess, AuditedWarehouse
from executor.router import build_engine
from executor.verified import Library
from executor.warehouse.base import Warehouse
from executor.warehouse.duckdb import DuckDBWarehouse
from executor.warehouse.guarded import export_guarded, run_guarded
from tests.support.audit import MemoryAuditStore, memory_trail
from tests.support.scripted_model import (
    ScriptedModel,
    calls,
    run_sql,
    says,
    tool_use,
)
from tests.support.verified import TODAY

ASKER = Asker("slack", "U0001", "T0001", "C0001")
PLANS = "SELECT plan, COUNT(*) AS users FROM users GROUP BY plan ORDER BY plan"


@pytest.fixture
def store() -> MemoryAuditStore:
    return MemoryAuditStore()


@pytest.fixture
def trail(store: MemoryAuditStore) -> AuditTrail:
    return memory_trail(store)


def _engine(config: EngineConfig, library: Library, warehouse: Warehouse, trail: AuditTrail,
            model: ScriptedModel | None = None, access: Any = None) -> Any:
    return build_engine(
        replace(config, model=ModelConfig(provider="offline" if model is None else "bedrock")),
        warehouse=warehouse, artifacts=LocalArtifactStore(config.artifacts.results_dir),
        bedrock_client=model, library=library, today=lambda: TODAY, access=access,
        audit=trail,
    )


def _records(trail: AuditTrail, store: MemoryAuditStore) -> list[dict[str, Any]]:
    trail.flush()
    return store.records


def test_a_verified_answer_s_statements_are_recorded_with_who_asked(
    offline_config: EngineConfig, verified_library: Library, duckdb_sample: DuckDBWarehouse,
    trail: AuditTrail, store: MemoryAuditStore,
) -> None:
    engine = _engine(offline_config, verified_library, duckdb_sample, trail)
    answer = engine.answer(Request(job_id="v1", question="how many users are on each plan?",
                                   asker=ASKER))
    assert answer.verified is True
    records = _records(trail, store)
    # The as-of date's MAX query, the preview, and the whole result stored as result.csv
    assert [r["action"] for r in records] == ["query", "query", "export"]
    answered = records[1]
    assert answered | {"time": "-", "duration_ms": 0} == {
        "time": "-", "job_id": "v1", "platform": "slack", "user": "U0001",
        "workspace": "T0001", "channel": "C0001", "database_user": "duckdb",
        "action": "query", "sql": answered["sql"], "sql_sha256": sql_sha256(answered["sql"]),
        "rows": 3, "duration_ms": 0,
        "outcome": "ok", "error_class": None, "error": None,
    }
    assert answered["time"].endswith("Z") and "GROUP BY plan" in answered["sql"]
    assert records[2]["rows"] == 3 and "MAX(" in records[0]["sql"]
    assert {(r["job_id"], r["outcome"]) for r in records} == {("v1", "ok")}


def test_the_agent_s_queries_refusals_and_exports_are_recorded(
    offline_config: EngineConfig, verified_library: Library, duckdb_sample: DuckDBWarehouse,
    trail: AuditTrail, store: MemoryAuditStore,
) -> None:
    model = ScriptedModel([
        run_sql("DELETE FROM users"),
        run_sql(PLANS),
        calls(tool_use("export_results", {"sql": "SELECT user_id, plan FROM users"})),
        says("Three plans."), says("Three plans."),
    ])
    engine = _engine(offline_config, verified_library, duckdb_sample, trail, model)
    engine.answer(Request(job_id="a1", question="users per plan, as a file", asker=ASKER))
    records = [r for r in _records(trail, store) if "MAX(" not in r["sql"]]
    refused, fetched, exported = records
    # The guard refused the DELETE before the warehouse saw it
    assert (refused["sql"], refused["outcome"], refused["error_class"], refused["rows"]) == (
        "DELETE FROM users", "refused", "UnsafeSQL", None)
    assert refused["error"]
    assert (fetched["outcome"], fetched["action"], fetched["rows"]) == ("ok", "query", 3)
    assert "GROUP BY plan" in fetched["sql"]
    assert (exported["outcome"], exported["action"]) == ("ok", "export")
    assert exported["rows"] == len(duckdb_sample.query("SELECT * FROM users", 10**6).rows)
    assert {(r["job_id"], r["user"], r["channel"]) for r in records} == {("a1", "U0001", "C0001")}


class _PersonalWarehouse:
    """One person's warehouse, as a per-person access hands it out."""

    def __init__(self, inner: Warehouse, database_user: str) -> None:
        self.inner = inner
        self.dialect = inner.dialect
        self.database_user = database_user

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class _PerPersonAccess:
    def __init__(self, inner: Warehouse) -> None:
        self.inner = inner

    @contextmanager
    def session(self, request: Request) -> Iterator[Warehouse]:
        assert request.asker is not None
        yield _PersonalWarehouse(self.inner, f"db_{request.asker.user.lower()}")  # type: ignore[misc]


def test_the_trail_records_the_identity_of_whatever_access_the_engine_has(
    offline_config: EngineConfig, verified_library: Library, duckdb_sample: DuckDBWarehouse,
    trail: AuditTrail, store: MemoryAuditStore,
) -> None:
    engine = _engine(offline_config, verified_library, duckdb_sample, trail,
                     access=_PerPersonAccess(duckdb_sample))
    for user in ("U0001", "U0002"):
        engine.answer(Request(job_id=f"p-{user}", question="how many users are on each plan?",
                              asker=replace(ASKER, user=user)))
    records = _records(trail, store)
    assert {(r["user"], r["database_user"]) for r in records} == {
        ("U0001", "db_u0001"), ("U0002", "db_u0002")}


def test_a_failing_audit_store_does_not_fail_the_answer(
    offline_config: EngineConfig, verified_library: Library, duckdb_sample: DuckDBWarehouse,
    log_lines: list[dict[str, Any]],
) -> None:
    store = MemoryAuditStore()
    store.failing = True
    trail = memory_trail(store)
    engine = _engine(offline_config, verified_library, duckdb_sample, trail)
    answer = engine.answer(Request(job_id="f1", question="how many users are on each plan?",
                                   asker=ASKER))
    trail.flush()
    assert answer.verified is True and answer.table is not None
    assert trail.failed_writes == 1
    assert any(line["level"] == "ERROR" and line["message"].startswith("audit | could not write")
               for line in log_lines)
    store.failing = False  # the records kept are written at exit


def test_the_data_as_of_dates_are_read_once_across_requests(
    offline_config: EngineConfig, verified_library: Library, trail: AuditTrail,
    store: MemoryAuditStore,
) -> None:
    # A warehouse of its own: the dates are kept per warehouse, for minutes
    warehouse = DuckDBWarehouse(DEFAULT_INPUT)
    engine = _engine(offline_config, verified_library, warehouse, trail)
    for n in (1, 2):
        engine.answer(Request(job_id=f"d{n}", question="how many users signed up each month?",
                              asker=ASKER))
    warehouse.close()
    maxima = [r["job_id"] for r in _records(trail, store) if "MAX(" in r["sql"]]
    assert maxima == ["d1"]


def test_a_database_error_is_recorded_and_raised(
    duckdb_sample: DuckDBWarehouse, trail: AuditTrail, store: MemoryAuditStore,
) -> None:
    warehouse = AuditedWarehouse(duckdb_sample, trail, job_id="e1", asker=None)
    with pytest.raises(WarehouseError):
        run_guarded(warehouse, "SELECT CAST(plan AS INTEGER) FROM users", max_rows=5)
    [record] = _records(trail, store)
    assert (record["outcome"], record["error_class"], record["rows"]) == (
        "error", "WarehouseError", None)
    assert record["error"] and "\n" not in record["error"]


def test_a_refused_export_is_recorded_and_nothing_runs(
    duckdb_sample: DuckDBWarehouse, trail: AuditTrail, store: MemoryAuditStore, tmp_path: Path,
) -> None:
    warehouse = AuditedWarehouse(duckdb_sample, trail, job_id="r1", asker=None)
    with pytest.raises(UnsafeSQL):
        export_guarded(warehouse, "DROP TABLE users", tmp_path / "out.csv")
    [record] = _records(trail, store)
    assert (record["sql"], record["outcome"]) == ("DROP TABLE users", "refused")
    assert not (tmp_path / "out.csv").exists()


class _Estimating:
    """A warehouse with a method the protocol does not name (yet)."""

    dialect = "duckdb"
    database_user = "duckdb"

    def estimate(self, sql: str) -> int:
        return 42


def test_the_wrapper_forwards_what_it_does_not_record(trail: AuditTrail) -> None:
    warehouse = AuditedWarehouse(_Estimating(), trail, job_id="x", asker=None)  # type: ignore[arg-type]
    assert warehouse.estimate("SELECT 1") == 42


def test_an_audited_access_wraps_the_shared_warehouse_per_request(
    duckdb_sample: DuckDBWarehouse, trail: AuditTrail, store: MemoryAuditStore,
) -> None:
    access = AuditedAccess(SharedAccess(duckdb_sample), trail)
    with access.session(Request(job_id="s1", question="q", asker=ASKER)) as warehouse:
        warehouse.query("SELECT 1 AS one", 1)
    [record] = _records(trail, store)
    assert (record["job_id"], record["user"], record["rows"]) == ("s1", "U0001", 1)
