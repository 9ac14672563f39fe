"""The audit trail's seam: a Warehouse that records each statement it runs, and a
WarehouseAccess that hands every request such a warehouse around whatever warehouse the
access it wraps hands out (the shared one, or one per person).

Statements are recorded as they reach the warehouse: a query (rows fetched) or an export
(rows written), each with its time, duration and outcome. The SQL guard refuses before
the warehouse sees a statement: executor/warehouse/guarded.py tells the warehouse's
`refused`, recorded with the outcome "refused". Everything else (the catalog, sample values,
result columns, and whatever a warehouse adds) is forwarded untouched.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from bot.asker import Asker
from executor.access import WarehouseAccess
from executor.config import EngineConfig
from executor.governance.audit_record import REFUSED, statement_record
from executor.governance.audit_trail import AuditTrail, open_audit_trail
from executor.warehouse.base import (
    ExportResult,
    FetchedRows,
    ResultColumn,
    TableInfo,
    Warehouse,
)

if TYPE_CHECKING:
    from executor.engine import Request

Result = TypeVar("Result", FetchedRows, ExportResult)


class AuditedWarehouse:
    """`wrapped`, with each statement of `job_id`, asked by `asker`, recorded in `trail`."""

    def __init__(
        self, wrapped: Warehouse, trail: AuditTrail, *, job_id: str, asker: Asker | None
    ) -> None:
        self.wrapped = wrapped
        self.trail = trail
        self.job_id = job_id
        self.asker = asker
        self.dialect = wrapped.dialect
        self.database_user = wrapped.database_user

    def query(self, sql: str, max_rows: int, params: dict[str, Any] | None = None
              ) -> FetchedRows:
        return self._run("query", sql, lambda: self.wrapped.query(sql, max_rows, params),
                         lambda fetched: len(fetched.rows))

    def export(self, sql: str, path: Path, params: dict[str, Any] | None = None
               ) -> ExportResult:
        return self._run("export", sql, lambda: self.wrapped.export(sql, path, params),
                         lambda exported: exported.rows)

    def refused(self, sql: str, error: Exception) -> None:
        """The SQL guard refused `sql`: nothing ran."""
        self._record("query", sql, datetime.now(UTC), 0.0, None, error, REFUSED)

    def tables(self, refresh: bool = False) -> list[TableInfo]:
        return self.wrapped.tables(refresh)

    def with_samples(self, tables: Sequence[TableInfo]) -> list[TableInfo]:
        return self.wrapped.with_samples(tables)

    def result_columns(self, sql: str, params: dict[str, Any] | None = None
                       ) -> list[ResultColumn]:
        return self.wrapped.result_columns(sql, params)

    def close(self) -> None:
        """Close the warehouse and write its records now (a command's or a review's end)."""
        self.wrapped.close()
        self.trail.flush()

    def __getattr__(self, name: str) -> Any:
        # What a warehouse offers beyond the protocol (or adds to it later), as it is.
        if name == "wrapped":  # not set yet (a copy being made): no endless lookup
            raise AttributeError(name)
        return getattr(self.wrapped, name)

    def _run(self, action: str, sql: str, run: Callable[[], Result],
             rows: Callable[[Result], int]) -> Result:
        started, clock = datetime.now(UTC), time.perf_counter()
        try:
            result = run()
        except Exception as e:
            self._record(action, sql, started, time.perf_counter() - clock, None, e)
            raise
        self._record(action, sql, started, time.perf_counter() - clock, rows(result))
        return result

    def _record(self, action: str, sql: str, started: datetime, duration_s: float,
                rows: int | None, error: Exception | None = None,
                outcome: str | None = None) -> None:
        self.trail.record(statement_record(
            started=started, job_id=self.job_id, asker=self.asker,
            database_user=self.database_user, action=action, sql=sql, rows=rows,
            duration_s=duration_s, error=error, outcome=outcome, secrets=self.trail.secrets,
        ))


def audited_command(config: EngineConfig, warehouse: Warehouse, command: str
                    ) -> AuditedWarehouse:
    """`warehouse` for one run of a `databot` command in a terminal, its statements recorded
    under a job id of its own (`<command>-<12 hex digits>`) as the person at the terminal
    (Asker.local()). Closing it closes the warehouse and writes the records."""
    trail = open_audit_trail(config)
    return AuditedWarehouse(warehouse, trail, job_id=f"{command}-{uuid.uuid4().hex[:12]}",
                            asker=Asker.local())


class AuditedAccess:
    """Each request's warehouse from `wrapped`, audited under the request's job and asker."""

    def __init__(self, wrapped: WarehouseAccess, trail: AuditTrail) -> None:
        self.wrapped = wrapped
        self.trail = trail

    @contextmanager
    def session(self, request: Request) -> Iterator[Warehouse]:
        with self.wrapped.session(request) as warehouse:
            yield AuditedWarehouse(warehouse, self.trail, job_id=request.job_id,
                                   asker=request.asker)
