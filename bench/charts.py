"""How long a chart takes to render, per kind, once the worker is warm.

Each kind is drawn from a real result of the sample warehouse (DuckDB over input/), the
largest at the 10,000 rows run_sql keeps per query. Every kind is rendered WARM_UP times
first (imports, font cache, first text layout), then RUNS timed renders per kind (plan +
draw + PNG written): median and 95th percentile of wall time, and median CPU time of this
process, which other load on the machine does not inflate. Also the first chart of a fresh
interpreter (imports included), what a new worker task pays once. Target: median CPU time
at most TARGET_MS per chart for every kind.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from executor.charts.draw import render_chart
from executor.charts.spec import ChartSpec
from executor.config import WarehouseConfig
from executor.row_limits import KEEP_ROWS
from executor.warehouse.factory import open_warehouse

WARM_UP = 2
RUNS = 15
TARGET_MS = 300.0
CASES: dict[str, tuple[str, ChartSpec]] = {
    "bar": (
        "SELECT country, count(*) AS users FROM users GROUP BY 1 ORDER BY 2 DESC",
        ChartSpec("bar", "country", "users"),
    ),
    "barh (top 14 + Other)": (
        "SELECT city, sum(revenue) AS revenue_usd FROM interactions JOIN users USING (user_id)"
        " GROUP BY 1",
        ChartSpec("barh", "city", "revenue_usd"),
    ),
    "line (3 series)": (
        "SELECT date_trunc('month', signup_date) AS month, plan, count(*) AS signups"
        " FROM users GROUP BY 1, 2",
        ChartSpec("line", "month", "signups", series="plan"),
    ),
    "area (daily)": (
        "SELECT CAST(occurred_at AS DATE) AS day, count(*) AS events FROM interactions GROUP BY 1",
        ChartSpec("area", "day", "events"),
    ),
    "scatter (10k points)": (
        f"SELECT duration_seconds, item_id FROM interactions LIMIT {KEEP_ROWS}",
        ChartSpec("scatter", "item_id", "duration_seconds"),
    ),
    "pie": (
        "SELECT plan, count(*) AS users FROM users GROUP BY 1",
        ChartSpec("pie", "plan", "users"),
    ),
    "histogram (10k values)": (
        f"SELECT duration_seconds FROM interactions LIMIT {KEEP_ROWS}",
        ChartSpec("histogram", "duration_seconds", None),
    ),
}
FIRST_CHART = """
import time
started = time.perf_counter()
from pathlib import Path
from executor.charts.draw import render_chart
from executor.charts.spec import ChartSpec
render_chart(["k", "v"], [("a", 1), ("b", 2)], ChartSpec("bar", "k", "v"), Path({path!r}))
print(time.perf_counter() - started)
"""


def main() -> None:
    warehouse = open_warehouse(WarehouseConfig())
    failures = []
    with tempfile.TemporaryDirectory(prefix="bench-charts-") as folder:
        path = Path(folder) / "chart.png"
        results = {
            kind: warehouse.query(sql, max_rows=KEEP_ROWS) for kind, (sql, _) in CASES.items()
        }
        for _ in range(WARM_UP):
            for kind, (_, spec) in CASES.items():
                render_chart(results[kind].columns, results[kind].rows, spec, path)
        print(
            f"{'kind':<24} {'rows':>6} {'wall median':>11} {'wall p95':>9} {'CPU median':>11}"
            f" {'PNG KB':>7}"
        )
        for kind, (_, spec) in CASES.items():
            result = results[kind]
            wall, cpu = [], []
            for _ in range(RUNS):
                started, started_cpu = time.perf_counter(), time.process_time()
                render_chart(result.columns, result.rows, spec, path)
                wall.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
            p95 = statistics.quantiles(wall, n=20)[-1]
            cpu_median = statistics.median(cpu)
            print(
                f"{kind:<24} {len(result.rows):>6} {statistics.median(wall):>9.0f}ms"
                f" {p95:>7.0f}ms {cpu_median:>9.0f}ms {path.stat().st_size / 1024:>7.0f}"
            )
            if cpu_median > TARGET_MS:
                failures.append(kind)
        first = subprocess.run(
            [sys.executable, "-c", FIRST_CHART.format(path=str(Path(folder) / "first.png"))],
            capture_output=True,
            text=True,
            check=True,
        )
        print(
            f"first chart in a fresh interpreter (imports included): "
            f"{float(first.stdout) * 1000:.0f} ms"
        )
    warehouse.close()
    verdict = "met" if not failures else f"missed by {', '.join(failures)}"
    print(f"target: median CPU time at most {TARGET_MS:.0f} ms per chart, every kind: {verdict}")
