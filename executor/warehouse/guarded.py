"""The one guarded path to the warehouse: the agent's run_sql, the verified queries,
`databot sql` and exports all go through here.

The SQL guard checks the statement against the warehouse's own tables (read once per
warehouse, re-read when a query names a table not seen before); the preview runs
with the guard's row cap, and the total row count is asked for only when the preview
was cut off.
"""

from __future__ import annotations

import threading
import time
import weakref
from pathlib import Path
from typing import Any

from executor.warehouse.base import ExportResult, QueryResult, Warehouse
from executor.warehouse.guard import CheckedSQL, UnknownTable, allowed_tables, check_sql


def guard(warehouse: Warehouse, sql: str) -> CheckedSQL:
    """Check `sql` for `warehouse`, or raise UnsafeSQL with the one-line reason."""
    try:
        return check_sql(sql, warehouse.dialect, allowed=_ALLOWED.get(warehouse))
    except UnknownTable:
        # The table may have been created since the schema was read: look once more.
        return check_sql(sql, warehouse.dialect, allowed=_ALLOWED.get(warehouse, refresh=True))


def run_guarded(
    warehouse: Warehouse, sql: str, *, max_rows: int, params: dict[str, Any] | None = None
) -> QueryResult:
    """Guard, then fetch at most `max_rows` rows and the total row count."""
    checked = guard(warehouse, sql)
    started = time.perf_counter()
    preview = warehouse.query(checked.capped(max_rows), max_rows, params)
    total = preview.total_rows
    if len(preview.rows) >= max_rows:
        count_sql = f"SELECT COUNT(*) AS row_count FROM ({checked.sql}) AS counted"
        counted = warehouse.query(count_sql, 1, params)
        total = int(counted.rows[0][0])
    return QueryResult(
        columns=preview.columns,
        rows=preview.rows,
        total_rows=total,
        elapsed_s=time.perf_counter() - started,
    )


def export_guarded(
    warehouse: Warehouse, sql: str, path: Path, *, params: dict[str, Any] | None = None
) -> ExportResult:
    """Guard, then stream the whole result to a CSV or Parquet file (by extension)."""
    checked = guard(warehouse, sql)
    return warehouse.export(checked.sql, path, params)


class _AllowedTables:
    """Each live warehouse's allowed table names, read from its schema once and re-read
    on request at most once a minute (a misspelt table must not hammer the catalog)."""

    REFRESH_INTERVAL_S = 60.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._names: dict[int, tuple[weakref.ref[Any], frozenset[str], float]] = {}

    def get(self, warehouse: Warehouse, *, refresh: bool = False) -> frozenset[str]:
        key = id(warehouse)
        with self._lock:
            cached = self._names.get(key)
        if cached is not None and cached[0]() is warehouse:
            _, names, read_at = cached
            if not refresh or time.monotonic() - read_at < self.REFRESH_INTERVAL_S:
                return names
        names = allowed_tables(warehouse.tables())
        ref = weakref.ref(warehouse, lambda _: self._forget(key))
        with self._lock:
            self._names[key] = (ref, names, time.monotonic())
        return names

    def _forget(self, key: int) -> None:
        with self._lock:
            self._names.pop(key, None)


_ALLOWED = _AllowedTables()
