"""DuckDB, the embedded default warehouse: each CSV in a folder becomes a table.

Column types come from schema.yaml (timestamps as TIMESTAMP, dates as DATE, booleans,
decimals) rather than from sniffing; columns it does not describe are sniffed. With
`preload` (the worker) every CSV is loaded into an in-memory table at start-up, so its
queries never re-parse one and its first job is as fast as the next. Without (a command
that runs a statement or two) each CSV is a view over its file: nothing is read until a
statement needs it, and only the columns it needs. A path to a `.duckdb` file is opened
read-only instead.

Memory: DuckDB is held to `memory_limit` and spills past it to a private temporary folder
(in-memory tables included), so a 20-million-row export stays within a few hundred MB.
Values an expression builds are outside that limit: the worker therefore opens this class
inside a memory-capped child process (`executor.warehouse.isolated`), and an allocation
that fails there is reported as one line, not DuckDB's page of tuning advice. Statement
timeouts are kept by one watchdog thread rather than a timer thread per statement.

Thread safety: the worker runs several jobs at once in threads. Each query and export
runs on its own cursor (`connection.cursor()`, DuckDB's thread-safe duplicate of the
connection), so one warehouse object can be shared by all of them.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from csv import Error as CsvError
from csv import reader
from pathlib import Path
from typing import Any

import duckdb

from bot.observability import service_logger
from executor.errors import WarehouseError
from executor.warehouse.base import ExportResult, FetchedRows, ResultColumn, TableInfo
from executor.warehouse.catalog import (
    SampleCache,
    TableKey,
    TableStats,
    describe_tables,
    quote_identifier,
)
from executor.warehouse.catalog_cache import CatalogCache
from executor.warehouse.cost import NO_LIMITS, CostLimits, PlanEstimate
from executor.warehouse.csv_cells import neutralising_select
from executor.warehouse.duckdb_plan import plan_estimate
from executor.warehouse.params import check_params, rewrite_placeholders
from executor.warehouse.result_writers import CSV, PARQUET, export_suffix, statement_body
from executor.warehouse.schema_doc import SchemaDoc, resolve_schema_doc

logger = service_logger()

DATABASE_SUFFIXES = (".duckdb", ".db")
COPY_OPTIONS = {CSV: "(FORMAT csv, HEADER true)", PARQUET: "(FORMAT parquet)"}
# Types whose printed values cannot start with a formula character (see csv_cells).
FIXED_SHAPE_TYPES = (
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
    "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "BOOLEAN", "DATE",
    "TIME", "TIMESTAMP",
)  # fmt: skip


class DuckDBWarehouse:
    dialect = "duckdb"
    database_user = "duckdb"

    def __init__(
        self,
        path: Path,
        *,
        schema_doc: SchemaDoc | None = None,
        statement_timeout_s: float = 60.0,
        memory_limit: str | None = None,
        preload: bool = True,
        cost_limits: CostLimits = NO_LIMITS,
    ) -> None:
        """Open `path`: a folder of CSV files (loaded now when `preload`, else each on first
        use), or a DuckDB database file (read-only)."""
        self.path = path
        self.statement_timeout_s = statement_timeout_s
        self.memory_limit = memory_limit
        # DuckDB estimates rows but has no cost model: MAX_QUERY_COST cannot apply.
        self.cost_limits = cost_limits.without_cost()
        self._doc = schema_doc if schema_doc is not None else resolve_schema_doc(None, path)
        # Read once: the data does not change while the warehouse is open.
        self._catalog = CatalogCache(lambda: self._doc.describe(self._read_catalog()))
        self._samples = SampleCache()
        self._watchdog = _Watchdog()
        started = time.perf_counter()
        self._spill_dir = tempfile.TemporaryDirectory(prefix="databot-duckdb-")
        config: dict[str, str | bool | int | float | list[str]] = {
            "temp_directory": self._spill_dir.name
        }
        if memory_limit:
            config["memory_limit"] = memory_limit
        if path.is_file() and path.suffix in DATABASE_SUFFIXES:
            self._con = duckdb.connect(str(path), read_only=True, config=config)
            self._quiet()
        elif path.is_dir():
            self._con = duckdb.connect(config=config)
            self._quiet()
            self._load_csvs(path, preload)
        else:
            raise WarehouseError(
                f"DuckDB warehouse path {path} is neither a folder of CSV files "
                f"nor a {' or '.join(DATABASE_SUFFIXES)} database file"
            )
        logger.debug("opened duckdb warehouse %s in %.3fs", path, time.perf_counter() - started)

    def _quiet(self) -> None:
        """No progress bar: DuckDB draws it on the terminal, in the middle of what `databot`
        prints."""
        self._con.execute("SET enable_progress_bar = false")

    def _load_csvs(self, folder: Path, preload: bool) -> None:
        csvs = sorted(folder.glob("*.csv"))
        if not csvs:
            raise WarehouseError(f"no CSV files in {folder}")
        for csv in csvs:
            self._create(csv, "TABLE" if preload else "VIEW")

    def _create(self, csv: Path, kind: str) -> None:
        """`csv` as a table (its rows read now) or a view (read by each statement)."""
        doc = self._doc.table(csv.stem)
        # Inlined as literals: a view's definition cannot hold parameters.
        options = "header = true, delim = ',', quote = '\"'"
        if doc is not None:
            types = doc.types()
            declared = ", ".join(f"{_literal(name)}: {_literal(type_)}"
                                 for name, type_ in types.items())
            # A document that names every column of the file, in order, says all the
            # sniffer would find out: the file is not sampled (a view would be at each use).
            if _header(csv) == list(types):
                options += f", auto_detect = false, columns = {{{declared}}}"
            else:
                options += f", column_types = {{{declared}}}"
        try:
            self._con.execute(
                f"CREATE {kind} {quote_identifier(csv.stem)} AS "
                f"SELECT * FROM read_csv({_literal(str(csv))}, {options})"
            )
        except duckdb.Error as e:
            raise WarehouseError(f"cannot load {csv}: {e}") from e

    def tables(self, refresh: bool = False) -> list[TableInfo]:
        """Every table with columns, types, descriptions and row counts (none for a CSV read
        as a view).

        Computed once: the data does not change while the warehouse is open, so `refresh`
        has nothing new to read.
        """
        return self._catalog.tables(refresh)

    def with_samples(self, tables: Sequence[TableInfo]) -> list[TableInfo]:
        with self._cursor() as cur:

            def fetch(sql: str) -> list[tuple[Any, ...]]:
                        return cur.execute(sql).fetchall()

            return self._samples.with_samples(fetch, tables)

    def _read_catalog(self) -> list[TableInfo]:
        with self._cursor() as cur:
            listed = cur.execute(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
            ).fetchall()
            # Row counts as DuckDB keeps them: exact for its own tables; views have none.
            stats: dict[TableKey, TableStats] = {
                (None, name): TableStats(rows=int(rows))
                for name, rows in cur.execute(
                    "SELECT table_name, estimated_size FROM duckdb_tables() "
                    "WHERE schema_name = current_schema()"
                ).fetchall()
            }
        # Tables of the current schema go unqualified, so the schema is left out.
        return describe_tables([(None, *row) for row in listed], stats)

    def query(self, sql: str, max_rows: int, params: dict[str, Any] | None = None) -> FetchedRows:
        started = time.perf_counter()
        with self._cursor() as cur:
            self._execute(cur, statement_body(sql), params)
            columns = [d[0] for d in cur.description or []]
            with self._errors():
                rows = cur.fetchmany(max_rows)
        return FetchedRows(columns, rows, time.perf_counter() - started)

    def estimate(self, sql: str, params: dict[str, Any] | None = None) -> PlanEstimate | None:
        """EXPLAIN's largest scan estimate (DuckDB has no cost)."""
        if not self.cost_limits.any:
            return None
        with self._cursor() as cur:
            explained = self._execute(cur, f"EXPLAIN (FORMAT JSON) {statement_body(sql)}", params)
            (_, plan), *_ = explained.fetchall()
        return plan_estimate(plan, self.cost_limits)

    def export(self, sql: str, path: Path, params: dict[str, Any] | None = None) -> ExportResult:
        """Stream the whole result to CSV or Parquet with DuckDB's COPY (by file extension)."""
        suffix = export_suffix(path)
        started = time.perf_counter()
        target = "'" + str(path).replace("'", "''") + "'"
        with self._cursor() as cur:
            # Row order still follows any ORDER BY; without one, not keeping insertion
            # order lets COPY stream with less buffering.
            cur.execute("SET SESSION preserve_insertion_order = false")
            query = statement_body(sql)
            if suffix == CSV:
                columns = self._result_columns(cur, query, params)
                query = neutralising_select(query, columns, self.dialect)
            copied = self._execute(
                cur, f"COPY ({query}) TO {target} {COPY_OPTIONS[suffix]}", params
            )
            rows = int(copied.fetchall()[0][0])
        return ExportResult(str(path), rows, time.perf_counter() - started)

    def result_columns(self, sql: str, params: dict[str, Any] | None = None) -> list[ResultColumn]:
        with self._cursor() as cur:
            return self._result_columns(cur, statement_body(sql), params)

    def _result_columns(
        self, cur: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None
    ) -> list[ResultColumn]:
        described = self._execute(cur, f"SELECT * FROM ({sql}) AS described LIMIT 0", params)
        return [
            ResultColumn(name, free_text=not str(type_).startswith(FIXED_SHAPE_TYPES))
            for name, type_, *_ in described.description or []
        ]

    def close(self) -> None:
        self._watchdog.stop()
        self._con.close()
        self._spill_dir.cleanup()

    @contextmanager
    def _cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cur = self._con.cursor()
        try:
            yield cur
        finally:
            cur.close()

    def _execute(
        self, cur: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None
    ) -> duckdb.DuckDBPyConnection:
        """Run one statement, cancelled after the statement timeout, errors as WarehouseError."""
        check_params(sql, params)
        if params:
            sql = rewrite_placeholders(sql, lambda name: "$" + name)
        cancel = self._watchdog.watch(cur, self.statement_timeout_s)
        try:
            with self._errors():
                return cur.execute(sql, params or None)
        finally:
            self._watchdog.release(cancel)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """DuckDB's errors as WarehouseError, from running a statement or from fetching its
        rows (which DuckDB builds as they are fetched: a wide result may run out of memory
        there)."""
        try:
            yield
        except duckdb.InterruptException as e:
            raise WarehouseError(
                f"query cancelled: it ran longer than the {self.statement_timeout_s:g} s timeout"
            ) from e
        except duckdb.OutOfMemoryException as e:
            # DuckDB's message spans lines of tuning advice meant for its operator.
            raise WarehouseError(
                "query stopped: it needs more memory than the warehouse allows"
                f" ({self.memory_limit or 'the default limit'}); aggregate or filter first,"
                " or select fewer or shorter values"
            ) from e
        except duckdb.Error as e:
            raise WarehouseError(str(e)) from e


class _Watchdog:
    """One thread that interrupts each statement still running at its deadline.

    Not a timer thread per statement: near a memory cap a new thread's stack may not be
    mappable, and the statement would then run without its timeout.
    """

    def __init__(self) -> None:
        self._deadlines: dict[object, tuple[float, duckdb.DuckDBPyConnection]] = {}
        self._changed = threading.Condition()
        self._stopped = False
        threading.Thread(target=self._run, name="duckdb-timeouts", daemon=True).start()

    def watch(self, cur: duckdb.DuckDBPyConnection, seconds: float) -> object:
        token = object()
        with self._changed:
            self._deadlines[token] = (time.monotonic() + seconds, cur)
            self._changed.notify()
        return token

    def release(self, token: object) -> None:
        with self._changed:
            self._deadlines.pop(token, None)

    def stop(self) -> None:
        with self._changed:
            self._stopped = True
            self._changed.notify()

    def _run(self) -> None:
        with self._changed:
            while not self._stopped:
                now = time.monotonic()
                for token, (deadline, cur) in list(self._deadlines.items()):
                    if deadline <= now:
                        del self._deadlines[token]
                        cur.interrupt()
                upcoming = [deadline for deadline, _ in self._deadlines.values()]
                self._changed.wait(min(upcoming) - now if upcoming else None)


def _header(csv: Path) -> list[str]:
    """The file's column names ([] when they cannot be read here: DuckDB then sniffs)."""
    try:
        with csv.open(newline="", encoding="utf-8") as file:
            return next(reader(file), [])
    except (OSError, UnicodeDecodeError, CsvError):
        return []


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
