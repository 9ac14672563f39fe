"""The catalog on a large warehouse: 2,000 generated tables, in DuckDB and in PostgreSQL
through redshift-connector (the Redshift stand-in the tests use).

Per warehouse: the time to build the catalog (target: under 1 s), and a question's
latency (a guarded count on one table) with no catalog read under way and with catalog
reads running back to back beside it (target: unchanged).

`BENCH_TABLES` (default 2000) sets the number of tables; `--skip-postgres` (or no
embedded PostgreSQL) leaves PostgreSQL out.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from executor.warehouse.base import Warehouse
from executor.warehouse.guarded import run_guarded

DOMAINS = ("sales", "finance", "marketing", "product", "support", "hr", "ops", "billing",
           "growth", "risk")
ENTITIES = ("orders", "invoices", "campaigns", "tickets", "sessions", "payments", "leads",
            "accounts", "refunds", "shipments", "subscriptions", "events", "employees",
            "contracts", "experiments", "alerts", "payouts", "quotes", "visits", "returns")
GRAINS = ("daily", "weekly", "monthly", "raw", "clean", "snapshot", "agg", "v2", "hist", "dim")
ROWS_PER_TABLE = 200
QUESTIONS = 30


def table_names(count: int) -> list[str]:
    """`count` names such as sales_orders_daily, numbered once the combinations run out."""
    names = [f"{d}_{e}_{g}" for d in DOMAINS for e in ENTITIES for g in GRAINS]
    return [names[i % len(names)] + (f"_{i // len(names)}" if i >= len(names) else "")
            for i in range(count)]


def table_ddl(name: str, schema: str | None) -> tuple[str, str]:
    """CREATE TABLE and INSERT statements for one table, in SQL both databases accept."""
    qualified = f"{schema}.{name}" if schema else name
    create = (f"CREATE TABLE {qualified} (id integer, created_at timestamp, status varchar(16), "
              f"region varchar(16), channel varchar(16), note varchar(64), amount numeric(12,2))")
    insert = (
        f"INSERT INTO {qualified} SELECT g, TIMESTAMP '2026-01-01' + g * INTERVAL '1 hour', "
        "(ARRAY['new','open','closed','void'])[1 + g % 4], "
        "(ARRAY['emea','amer','apac'])[1 + g % 3], "
        "(ARRAY['web','app','store','partner','email'])[1 + g % 5], "
        f"'note ' || g, g * 1.5 FROM generate_series(1, {ROWS_PER_TABLE}) AS s(g)"
    )
    return create, insert


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
        for name in table_names(count):
            for statement in table_ddl(name, None):
                con.execute(statement)
        con.close()
        first = table_names(1)[0]

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
        for name in table_names(count):
            statements += [f"{statement};" for statement in table_ddl(name, "wide")]
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
                            read, f"SELECT count(*) FROM wide.{table_names(1)[0]}")


def main() -> None:
    count = int(os.environ.get("BENCH_TABLES") or 2000)
    bench_duckdb(count)
    if "--skip-postgres" not in sys.argv:
        bench_postgres(count)
