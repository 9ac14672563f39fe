"""The cost guard on DuckDB: the plan's row estimates, read from EXPLAIN (FORMAT JSON), and
statements refused or allowed by MAX_SCAN_ROWS, in process and in the isolated child."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from executor.config import DEFAULT_INPUT, WarehouseConfig
from executor.errors import TooCostly
from executor.warehouse.cost import CostLimits
from executor.warehouse.duckdb import DuckDBWarehouse
from executor.warehouse.duckdb_plan import plan_estimate
from executor.warehouse.factory import open_warehouse
from executor.warehouse.guarded import export_guarded, run_guarded

BIG_ROWS = 2_000_000
LIMITS = CostLimits(max_scan_rows=1_000_000)


def _node(name: str, rows: str | None, *children: dict[str, Any]) -> dict[str, Any]:
    info = {} if rows is None else {"Estimated Cardinality": rows}
    return {"name": name, "children": list(children), "extra_info": info}


def test_the_largest_leaf_estimate_is_the_scan_rows() -> None:
    plan = [_node("PROJECTION", "11", _node("HASH_JOIN", "90910",
                                            _node("SEQ_SCAN", "1000000"),
                                            _node("SEQ_SCAN", "90910")))]

    estimate = plan_estimate(json.dumps(plan), LIMITS)

    assert (estimate.cost, estimate.rows) == (None, 1_000_000)


def test_leaves_without_an_estimate_add_nothing() -> None:
    constant = [_node("PROJECTION", "1", _node("DUMMY_SCAN", None))]
    mixed = [_node("UNION", "5", _node("DUMMY_SCAN", None), _node("SEQ_SCAN", "5"))]

    assert plan_estimate(json.dumps(constant), LIMITS).rows is None
    assert plan_estimate(json.dumps(mixed), LIMITS).rows == 5


def test_a_csv_read_through_a_view_has_no_estimate_and_runs() -> None:
    # GIVEN the sample CSVs as views (a one-shot command's warehouse): DuckDB does not sample
    # a file whose columns are declared, and guesses its rows
    warehouse = DuckDBWarehouse(DEFAULT_INPUT, preload=False, cost_limits=CostLimits(
        max_scan_rows=10))
    try:
        estimate = warehouse.estimate("SELECT * FROM interactions")
        result = run_guarded(warehouse, "SELECT COUNT(*) AS n FROM users", max_rows=1)
    finally:
        warehouse.close()
    # THEN the guess is not taken for a count: no estimate, and the statement runs
    assert estimate is not None and estimate.rows is None
    assert result.rows == [(5000,)]


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file with a big generated table and a small one."""
    path = tmp_path_factory.mktemp("cost") / "events.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            f"CREATE TABLE events AS SELECT range AS id, range % 100 AS kind, "
            f"DATE '2026-01-01' + CAST(range % 300 AS INTEGER) AS day FROM range({BIG_ROWS})"
        )
        con.execute("CREATE TABLE kinds AS SELECT range AS kind FROM range(100)")
    return path


@pytest.fixture(scope="module")
def limited(database: Path) -> Iterator[DuckDBWarehouse]:
    warehouse = DuckDBWarehouse(database, cost_limits=LIMITS)
    yield warehouse
    warehouse.close()


def test_a_query_over_the_big_table_is_refused_naming_estimate_and_limit(
    limited: DuckDBWarehouse,
) -> None:
    with pytest.raises(TooCostly) as refused:
        run_guarded(limited, "SELECT kind, COUNT(*) AS n FROM events GROUP BY kind", max_rows=10)

    message = str(refused.value)
    assert f"an estimated {BIG_ROWS:,} rows from one scan" in message
    assert "(MAX_SCAN_ROWS is 1,000,000)" in message
    assert "a LIMIT alone does not reduce the rows scanned" in message


def test_a_limit_does_not_hide_the_scan(limited: DuckDBWarehouse) -> None:
    with pytest.raises(TooCostly):
        run_guarded(limited, "SELECT * FROM events LIMIT 5", max_rows=10)


def test_a_query_over_the_small_table_runs(limited: DuckDBWarehouse) -> None:
    result = run_guarded(limited, "SELECT COUNT(*) AS n FROM kinds", max_rows=10)

    assert result.rows == [(100,)]


def test_parameters_are_bound_in_the_explain(limited: DuckDBWarehouse) -> None:
    estimate = limited.estimate("SELECT * FROM kinds WHERE kind = :kind", {"kind": 3})

    assert estimate is not None and estimate.rows is not None and estimate.rows <= 100


def test_an_export_over_the_limit_writes_nothing(limited: DuckDBWarehouse, tmp_path: Path) -> None:
    target = tmp_path / "events.csv"

    with pytest.raises(TooCostly):
        export_guarded(limited, "SELECT * FROM events", target)

    assert not target.exists()


class _Counting(DuckDBWarehouse):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.statements: list[str] = []

    def _execute(self, cur: Any, sql: str, params: dict[str, Any] | None) -> Any:
        self.statements.append(sql)
        return super()._execute(cur, sql, params)


@pytest.mark.parametrize("limits", [CostLimits(), CostLimits(max_cost=10.0)])
def test_no_explain_runs_when_no_limit_applies(
    database: Path, limits: CostLimits, tmp_path: Path
) -> None:
    # GIVEN no limit, or only a cost limit, which DuckDB (no cost model) cannot apply
    copy = Path(shutil.copy(database, tmp_path / "events.duckdb"))
    warehouse = _Counting(copy, cost_limits=limits)
    try:
        run_guarded(warehouse, "SELECT COUNT(*) AS n FROM events", max_rows=10)
    finally:
        warehouse.close()

    assert warehouse.statements and not any("EXPLAIN" in sql for sql in warehouse.statements)


def test_the_isolated_warehouse_asks_its_child(
    database: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = WarehouseConfig(url=f"duckdb://{database}",
                             cost_limits=CostLimits(max_cost=5.0, max_scan_rows=1_000_000))
    with caplog.at_level(logging.INFO):
        warehouse = open_warehouse(config)
    try:
        with pytest.raises(TooCostly, match="MAX_SCAN_ROWS"):
            run_guarded(warehouse, "SELECT * FROM events", max_rows=10)
        assert run_guarded(warehouse, "SELECT MAX(kind) AS k FROM kinds", max_rows=1).rows == [
            (99,)
        ]
    finally:
        warehouse.close()
    # MAX_QUERY_COST is said, once at start, not to apply on DuckDB
    assert "MAX_QUERY_COST is not applied on DuckDB" in caplog.text
