"""Sample data and DuckDB warehouse figures: generator throughput and memory, warehouse
start-up, query latency and export speed on the committed sample data.

`BENCH_USERS` (default 100000) sets the generator run's size; `--users 1000000` gives
~21M interactions. `BENCH_DATA_DIR` points the warehouse figures at a larger folder.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from executor.config import DEFAULT_INPUT
from executor.warehouse.duckdb import DuckDBWarehouse

GROUP_BY = (
    "SELECT u.plan, date_trunc('month', i.occurred_at) AS month, count(*) AS events, "
    "sum(i.revenue) AS revenue FROM interactions i JOIN users u USING (user_id) "
    "GROUP BY ALL ORDER BY month, u.plan"
)


def bench_generator(n_users: int) -> None:
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, str(DEFAULT_INPUT / "generate.py"), "--users", str(n_users),
             "--out", out],
            check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        with open(Path(out) / "interactions.csv", "rb") as csv:
            rows = sum(1 for _ in csv) - 1
        size_mb = sum(f.stat().st_size for f in Path(out).glob("*.csv")) / 1e6
    print(
        f"generate --users {n_users:,}: {rows:,} interactions, {size_mb:,.0f} MB "
        f"in {seconds:.1f}s ({rows / seconds:,.0f} rows/s), peak RSS {peak_mb:,.0f} MB"
    )


def bench_warehouse(folder: Path) -> None:
    opens = []
    for _ in range(5):
        started = time.perf_counter()
        warehouse = DuckDBWarehouse(folder)
        warehouse.tables()
        opens.append(time.perf_counter() - started)
        warehouse.close()
    print(f"duckdb start-up + catalog on {folder}: best {min(opens):.3f}s, worst {max(opens):.3f}s")

    warehouse = DuckDBWarehouse(folder)
    try:
        latencies = [warehouse.query(GROUP_BY, 100).elapsed_s for _ in range(20)]
        print(
            f"group-by query over interactions: median {statistics.median(latencies) * 1000:.1f} ms"
        )
        with tempfile.TemporaryDirectory() as out:
            exported = warehouse.export("SELECT * FROM interactions", Path(out) / "all.parquet")
        print(
            f"export of {exported.rows:,} rows to Parquet: {exported.elapsed_s:.2f}s "
            f"({exported.rows / exported.elapsed_s:,.0f} rows/s)"
        )
    finally:
        warehouse.close()


def main() -> None:
    bench_warehouse(Path(os.environ.get("BENCH_DATA_DIR") or DEFAULT_INPUT))
    bench_generator(int(os.environ.get("BENCH_USERS") or 100_000))
