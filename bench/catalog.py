"""The catalog on a large warehouse: 2,000 generated tables (bench/catalog_tables.py), in
DuckDB and in PostgreSQL through redshift-connector (the Redshift stand-in the tests use).

Per warehouse: the time to build the catalog (target: under 1 s), and a question's
latency (a guarded count on one table) with no catalog read under way and with catalog
reads running back to back beside it (target: unchanged).

`BENCH_TABLES` (default 2000) sets the number of tables; `--skip-postgres` (or no
embedded PostgreSQL) leaves PostgreSQL out.
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from bench.catalog_tables import generate_tables
from executor.warehouse.base import TableInfo, Warehouse
from executor.warehouse.guarded import run_guarded

ROWS_PER_TABLE = 200
QUESTIONS = 30
# A generated value per column type, from the row number g, in SQL both databases accept.
VALUES = (
    (re.compile(r"INT", re.I), "g"),
    (re.compile(r"DECIMAL|NUMERIC", re.I), "(g % 7) * 0.5"),
    (re.compile(r"TIMESTAMP", re.I), "TIMESTAMP '2026-01-01' + g * INTERVAL '1 hour'"),
    (re.compile(r"DATE", re.I), "DATE '2026-01-01' + CAST(g AS INTEGER)"),
    (re.compile(r"BOOL", re.I), "g % 2 = 0"),
)
TEXT_VALUE = "(ARRAY['new','open','closed','void'])[1 + g % 4]"


def table_ddl(table: TableInfo, schema: str | None) -> tuple[str, str]:
    """CREATE TABLE and INSERT statements for one generated table (bench/catalog_tables.py)."""
    qualified = f"{schema}.{table.name}" if schema else table.name
    columns = ", ".join(f"{column.name} {column.type}" for column in table.columns)
    values = ", ".join(_value(column.type) for column in table.columns)
    create = f"CREATE TABLE {qualified} ({columns})"
    insert = (f"INSERT INTO {qualified} SELECT {values} "
              f"FROM generate_series(1, {ROWS_PER_TABLE}) AS s(g)")
    return create, insert


def _value(type_: str) -> str:
    return next((value for pattern, value in VALUES if pattern.search(type_)), TEXT_VALUE)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def bench_warehouse(label: str, open_warehouse: Callable[[], Warehouse],
                    read_catalog: Callable[[Warehouse], object], question: str) -> None:
    warehouse = open_warehouse()
    try:
        started = time.perf_counter()
        tables = warehouse.tables()
        built = time.perf_counter() - started
        print(f"{label}: catalog of {len(tables):,} tables built in {built:.3f} s")

        def latencies() -> list[float]:
            seconds = []
            for _ in range(QUESTIONS):
                started = time.perf_counter()
                run_guarded(warehouse, question, max_rows=10)
                seconds.append(time.perf_counter() - started)
            return seconds

        idle = latencies()
        with reading_catalog(lambda: read_catalog(warehouse)) as reads:
            busy = latencies()
        print(f"{label}: question p50 {statistics.median(idle) * 1000:.1f} ms "
              f"(p95 {percentile(idle, 0.95) * 1000:.1f}) alone; "
              f"p50 {statistics.median(busy) * 1000:.1f} ms "
              f"(p95 {percentile(busy, 0.95) * 1000:.1f}) beside {reads[0]} catalog reads")
    finally:
        warehouse.close()


@contextmanager
def reading_catalog(read: Callable[[], object]) -> Iterator[list[int]]:
    """Catalog reads back to back on another thread while the block runs; yields their
    count so far."""
    stop, reads = threading.Event(), [0]

    def loop() -> None:
        while not stop.is_set():
            read()
            reads[0] += 1

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield reads
    finally:
        stop.set()
        thread.join()


def bench_duckdb(count: int) -> None:
    from executor.warehouse.duckdb import DuckDBWarehouse

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "wide.duckdb"
        con = duckdb.connect(str(path))
        tables = generate_tables(count)
        for table in tables:
            for statement in table_ddl(table, None):
                con.execute(statement)
        con.close()
        first = tables[0].name

        def read(warehouse: Warehouse) -> object:
            return warehouse._read_catalog()  # type: ignore[attr-defined]

        bench_warehouse(f"duckdb, {count:,} tables", lambda: DuckDBWarehouse(path), read,
                        f"SELECT count(*) FROM {first}")


def bench_postgres(count: int) -> None:
    from executor.warehouse.redshift.adapter import RedshiftWarehouse
    from executor.warehouse.redshift.target import parse_url
    from tests.support.postgres import READER, free_port, run_pgbouncer, running_postgres

    with running_postgres() as server:
        statements = ["CREATE SCHEMA wide;"]
        tables = generate_tables(count)
        for table in tables:
            statements += [f"{statement};" for statement in table_ddl(table, "wide")]
        statements += ["ANALYZE;", f"GRANT USAGE ON SCHEMA wide TO {READER};",
                       f"GRANT SELECT ON ALL TABLES IN SCHEMA wide TO {READER};"]
        server.psql("\n".join(statements))
        with run_pgbouncer(server, server.workdir / "pgbouncer", free_port()) as pgbouncer:

            def connect() -> Warehouse:
                return RedshiftWarehouse(parse_url(pgbouncer.url), schemas=("wide",),
                                         password=lambda: pgbouncer.password)

            def read(warehouse: Warehouse) -> object:
                return warehouse._read_described()  # type: ignore[attr-defined]

            bench_warehouse(f"postgres via redshift-connector, {count:,} tables", connect,
                            read, f"SELECT count(*) FROM wide.{tables[0].name}")


def main() -> None:
    count = int(os.environ.get("BENCH_TABLES") or 2000)
    bench_duckdb(count)
    if "--skip-postgres" not in sys.argv:
        bench_postgres(count)
