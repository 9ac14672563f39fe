"""The one guarded path to the warehouse: the agent's run_sql, the verified queries,
`databot sql` and exports all go through here.

The SQL guard checks the statement against the warehouse's own tables (as the adapter
caches them; it is asked to re-read them when a query names a table not seen before);
the preview runs with the caller's row cap (a named limit, executor.row_limits) plus one
row, and the total row count is asked for only when that extra row shows the preview was
cut off. This is the one place that counts the rows past a cap: adapters only fetch.

A statement about to run is also held to the cost limits (`admit`): the warehouse's plan
for it is read and judged here (executor.warehouse.cost), once per statement, and a plan
over a limit is refused with `TooCostly` before anything runs. Every refusal, the guard's
or the cost guard's, is also told to the warehouse's audit trail when it keeps one.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bot.observability import service_logger
from executor.errors import TooCostly, UnsafeSQL
from executor.warehouse.base import ExportResult, QueryResult, Warehouse
from executor.warehouse.guard import CheckedSQL, UnknownTable, allowed_tables, check_sql

logger = service_logger()


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
        _record_refusal(warehouse, sql, e)
        raise


def admit(
    warehouse: Warehouse, sql: str, params: dict[str, Any] | None = None
) -> CheckedSQL:
    """Guard `sql`, then hold its plan to the warehouse's cost limits: the statement as it
    may run, or UnsafeSQL (TooCostly for a plan over a limit) with the one-line reason,
    recorded as a refusal in the warehouse's audit trail."""
    checked = guard_to_run(warehouse, sql)
    estimate = warehouse.estimate(checked.sql, params)
    if estimate is None:
        return checked
    job_id = logger.thread_safe_get_current_keys().get("correlation_id")
    logger.info(
        "job_id=<%s>, cost=<%s>, scan_rows=<%s> | plan estimate", job_id, estimate.cost,
        estimate.rows,
    )
    if estimate.cost is None and estimate.rows is None:
        logger.debug("job_id=<%s> | the plan holds no estimate; the statement runs", job_id)
    refusal = estimate.refusal()
    if refusal is not None:
        logger.info("job_id=<%s> | refused by the cost guard: %s", job_id, refusal)
        error = TooCostly(refusal)
        _record_refusal(warehouse, sql, error)
        raise error
    return checked


def _record_refusal(warehouse: Warehouse, sql: str, error: UnsafeSQL) -> None:
    """Tell the warehouse's audit trail, when it keeps one, of a statement refused."""
    refused = getattr(warehouse, "refused", None)
    if refused is not None:
        refused(sql, error)


def run_guarded(
    warehouse: Warehouse, sql: str, *, max_rows: int, params: dict[str, Any] | None = None
) -> QueryResult:
    """Admit, then fetch at most `max_rows` rows and the total row count."""
    checked = admit(warehouse, sql, params)
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
    """Admit, then stream the whole result to a CSV or Parquet file (by extension)."""
    checked = admit(warehouse, sql, params)
    return warehouse.export(checked.sql, path, params)
