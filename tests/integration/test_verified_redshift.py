"""Every verified entry's SQL as written (Redshift), through redshift-connector and
PgBouncer to PostgreSQL holding the sample data, gives what its DuckDB transpilation gives
(itself checked against pandas in tests/unit/executor/verified/test_library.py)."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pytest

from executor.verified import Library, Matcher
from executor.verified.params import bind
from executor.verified.transpile import to_dialect
from executor.warehouse.base import Warehouse
from executor.warehouse.duckdb import DuckDBWarehouse
from executor.warehouse.guarded import run_guarded
from executor.warehouse.redshift.adapter import RedshiftWarehouse
from tests.support.verified import TODAY

pytestmark = pytest.mark.integration


def _run(warehouse: Warehouse, matcher: Matcher, question: str) -> tuple[list[str], list[Any]]:
    match = matcher.match(question)
    assert match is not None
    sql = to_dialect(match.entry.sql, warehouse.dialect)
    params = bind(match.entry, match.values, TODAY)
    result = run_guarded(warehouse, sql, max_rows=10_000, params=params)
    return result.columns, [list(row) for row in result.rows]


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, int | float | Decimal) and isinstance(right, int | float | Decimal):
        return math.isclose(float(left), float(right), rel_tol=1e-9, abs_tol=1e-9)
    return bool(left == right)


def test_every_entry_runs_on_redshift_as_written(
    verified_library: Library,
    verified_matcher: Matcher,
    redshift_warehouse: RedshiftWarehouse,
    duckdb_sample: DuckDBWarehouse,
) -> None:
    for entry in verified_library.entries:
        # GIVEN the entry's own question, WHEN run on both warehouses
        columns, rows = _run(redshift_warehouse, verified_matcher, entry.question)
        duck_columns, duck_rows = _run(duckdb_sample, verified_matcher, entry.question)
        # THEN the same columns and the same rows, in the same order
        assert columns == duck_columns, entry.id
        assert len(rows) == len(duck_rows) > 0, entry.id
        for row, duck_row in zip(rows, duck_rows, strict=True):
            assert all(map(_same, row, duck_row)), f"{entry.id}: {row} != {duck_row}"
