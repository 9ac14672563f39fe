"""A warehouse that forwards to another and records every statement run through `query`:
what tests of the per-request warehouse session look at."""

from __future__ import annotations

from typing import Any

from executor.warehouse.base import FetchedRows, Warehouse


class RecordingWarehouse:
    def __init__(self, inner: Warehouse) -> None:
        self._inner = inner
        self.dialect = inner.dialect
        self.statements: list[str] = []

    def query(self, sql: str, max_rows: int, params: dict[str, Any] | None = None
              ) -> FetchedRows:
        self.statements.append(sql)
        return self._inner.query(sql, max_rows, params)

    def close(self) -> None:
        """Leaves the inner warehouse open: it is a fixture other tests share."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
