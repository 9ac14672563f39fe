"""The warehouse interface every adapter implements and every caller codes against."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from executor.warehouse.cost import PlanEstimate


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str = ""
    # A few distinct values of a low-cardinality text column; read only for the tables a
    # question is about (Warehouse.with_samples), empty in the catalog's listing.
    samples: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class TableInfo:
    name: str
    columns: list[Column]
    # From the warehouse's own statistics, never a count(*): an estimate, None when the
    # warehouse keeps none (a view, a table never analysed).
    row_count: int | None
    description: str = ""
    schema: str | None = None
    size_bytes: int | None = None


@dataclass(frozen=True)
class FetchedRows:
    """What an adapter's query returns: the columns and at most max_rows rows, uncounted."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    elapsed_s: float


@dataclass(frozen=True)
class QueryResult:
    """A guarded query's result (executor.warehouse.guarded): its first rows, up to a named
    cap (executor.row_limits), and how many rows it has in all."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    # Rows the query would return in all; `rows` holds at most max_rows of them.
    total_rows: int
    elapsed_s: float

    @property
    def truncated(self) -> bool:
        return self.total_rows > len(self.rows)


@dataclass(frozen=True)
class ResultColumn:
    """A column of a query's result, known before the rows are read."""

    name: str
    # Its values print as free text (strings, JSON, intervals, ...) that may start with any
    # character; numbers, booleans, dates and times print in fixed shapes, and a leading
    # minus sign there is a number's, not a formula's.
    free_text: bool


@dataclass(frozen=True)
class ExportResult:
    location: str
    rows: int
    elapsed_s: float


class Warehouse(Protocol):
    # sqlglot dialect name: "duckdb" or "redshift".
    dialect: str
    # The database user statements run as, for the audit trail: the configured (or mapped)
    # Redshift user, "duckdb" for the embedded warehouse.
    database_user: str

    def tables(self, refresh: bool = False) -> list[TableInfo]:
        """The tables a query may use, cached by the adapter; `refresh` asks it to re-read
        them sooner (a query named a table it does not know), as far as its limits allow.
        Read from the warehouse's catalog and statistics: no table is scanned."""
        ...

    def with_samples(self, tables: Sequence[TableInfo]) -> list[TableInfo]:
        """`tables` with sample values in their low-cardinality text columns, read for these
        tables only and kept by the adapter as long as its catalog."""
        ...

    def query(
        self, sql: str, max_rows: int, params: dict[str, Any] | None = None
    ) -> FetchedRows:
        """Run `sql` and fetch at most `max_rows` rows. The rest are never counted here:
        run_guarded counts a cut-off result, once."""
        ...

    def export(self, sql: str, path: Path, params: dict[str, Any] | None = None) -> ExportResult:
        """Stream the whole result to a CSV or Parquet file (by extension), never all in memory.
        A CSV's cells are neutralised against formula injection (executor.warehouse.csv_cells)."""
        ...

    def result_columns(self, sql: str, params: dict[str, Any] | None = None) -> list[ResultColumn]:
        """The columns `sql` returns, in order, read without fetching any row."""
        ...

    def estimate(self, sql: str, params: dict[str, Any] | None = None) -> PlanEstimate | None:
        """The planner's estimate for `sql` (its EXPLAIN, nothing run), held to the cost
        limits the warehouse was opened with; None, without asking, when no limit applies
        to this warehouse (executor.warehouse.cost)."""
        ...

    def close(self) -> None: ...
