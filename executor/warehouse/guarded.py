"""The one guarded path to the warehouse: the agent's run_sql, the verified queries,
`databot sql` and exports all go through here.

The SQL guard checks the statement against the warehouse's own tables (as the adapter
caches them; it is asked to re-read them when a query names a table not seen before);
the preview runs with the caller's row cap (a named limit, executor.row_limits) plus one
row, and the total row count is asked for only when that extra row shows the preview was
cut off. This is the one place that counts the rows past a cap: adapters only fetch.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from executor.errors import UnsafeSQL
from executor.warehouse.base import ExportResult, QueryResult, Warehouse
from executor.warehouse.guard import CheckedSQL, UnknownTable, allowed_tables, check_sql


def guard(warehouse: Warehouse, sql: str) -> CheckedSQL:
    """Check `sql` for `warehouse`, or raise UnsafeSQL with the one-line reason."""
    try:
        return check_sql(sql, warehouse.dialect, allowed=allowed_tables(warehouse.tables()))
    except UnknownTable:
        # The table may have been created since the schema was read: look once more.
        allowed = allowed_tables(warehouse.tables(refresh=True))
        return check_sql(sql, warehouse.dialect, allowed=allowed)


def guard_to_run(warehouse: Warehouse, sql: str) -> CheckedSQL:
    """`guard` for a statement about to run. A refusal also goes to the warehouse's audit
    trail when it keeps one (executor/governance/audited.py): it never reaches the warehouse."""
    try:
        return guard(warehouse, sql)
    except UnsafeSQL as e:
        refused = getattr(warehouse, "refused", None)
        if refused is not None:
            refused(sql, e)
        raise


def run_guarded(
    warehouse: Warehouse, sql: str, *, max_rows: int, params: dict[str, Any] | None = None
) -> QueryResult:
    """Guard, then fetch at most `max_rows` rows and the total row count."""
    checked = guard_to_run(warehouse, sql)
    started = time.perf_counter()
    # One row past the cap tells a cut-off preview from one that holds exactly max_rows.
    preview = warehouse.query(checked.capped(max_rows + 1), max_rows + 1, params)
    rows = preview.rows[:max_rows]
    total = len(rows)
    if len(preview.rows) > max_rows:
        count_sql = f"SELECT COUNT(*) AS row_count FROM ({checked.sql}) AS counted"
        counted = warehouse.query(count_sql, 1, params)
        total = int(counted.rows[0][0])
    return QueryResult(
        columns=preview.columns,
        rows=rows,
        total_rows=total,
        elapsed_s=time.perf_counter() - started,
    )


def export_guarded(
    warehouse: Warehouse, sql: str, path: Path, *, params: dict[str, Any] | None = None
) -> ExportResult:
    """Guard, then stream the whole result to a CSV or Parquet file (by extension)."""
    checked = guard_to_run(warehouse, sql)
    return warehouse.export(checked.sql, path, params)
