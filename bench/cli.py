"""The everyday command-line paths against their floors, measured side by side in one run
so the ratios hold on any machine (medians of interleaved runs, offline, on the sample data).

| pair | target |
|---|---|
| `databot ask` (verified, no chart) vs `python -c "import duckdb, pandas"` | ≤ 1.5× |
| `ask` with a chart, minus without, vs drawing it in a fresh process | the chart's cost |
| `databot sql "SELECT count(*) FROM interactions"` vs a plain DuckDB count over the CSV | ≤ 1.3× |
| `databot --help` vs `python -c pass` | ≤ 1.5× |

`BENCH_CLI_RUNS` (default 9) sets the runs per command. Byte-code is cached in a scratch
folder (PYTHONPYCACHEPREFIX) whatever PYTHONDONTWRITEBYTECODE says, as an installed
package has it.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from executor.config import DEFAULT_INPUT

NO_CHART = "How many users signed up?"
WITH_CHART = "How many users signed up each month?"
COUNT = "SELECT count(*) FROM interactions"
DRAW_CHART = """
import sys
from datetime import date
from pathlib import Path
from executor.charts.draw import draw_chart
from executor.charts.plan import plan_chart
from executor.charts.spec import ChartSpec
rows = [(date(2025 + m // 12, 1 + m % 12, 1), 100 + m) for m in range(23)]
spec = ChartSpec(kind="line", x="month", y="signups", title="Signups per month")
draw_chart(plan_chart(["month", "signups"], rows, spec), Path(sys.argv[1]) / "chart.png")
"""


def databot() -> list[str]:
    script = Path(sys.executable).with_name("databot")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from executor.cli import main; sys.exit(main())"]


def commands(scratch: Path) -> dict[str, list[str]]:
    csv = str(DEFAULT_INPUT / "interactions.csv").replace("'", "''")
    return {
        "floor ask": [sys.executable, "-c", "import duckdb, pandas"],
        "ask": [*databot(), "ask", NO_CHART],
        "ask + chart": [*databot(), "ask", WITH_CHART],
        "chart alone": [sys.executable, "-c", DRAW_CHART, str(scratch)],
        "floor sql": [sys.executable, "-c",
                      f"import duckdb; duckdb.sql(\"SELECT count(*) FROM read_csv('{csv}')\")"
                      ".fetchall()"],
        "sql": [*databot(), "sql", COUNT],
        "floor help": [sys.executable, "-c", "pass"],
        "help": [*databot(), "--help"],
    }


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    runs = int(os.environ.get("BENCH_CLI_RUNS") or 9)
    scratch = Path(tempfile.mkdtemp(prefix="databot-bench-cli-"))
    env = {**os.environ, "MODEL_PROVIDER": "offline", "RESULTS_DIR": str(scratch / "results"),
           "WAREHOUSE_URL": f"duckdb://{DEFAULT_INPUT}"}
    for name in ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "RESULTS_BUCKET", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    # Byte-code cached (outside the checkout), as an installed package has it: without it
    # every run would compile databot's own modules, which the floors never do.
    env["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
    try:
        argvs = commands(scratch)
        for argv in argvs.values():  # warm the page cache and byte-code
            timed(argv, env)
        seconds: dict[str, list[float]] = {name: [] for name in argvs}
        for _ in range(runs):
            for name, argv in argvs.items():
                seconds[name].append(timed(argv, env))
        median = {name: statistics.median(values) for name, values in seconds.items()}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    for name, value in median.items():
        print(f"{name:12} median {value * 1000:7.0f} ms over {runs} runs")

    def ratio(name: str, floor: str, target: float) -> None:
        value = median[name] / median[floor]
        verdict = "ok" if value <= target else "OVER TARGET"
        print(f"{name} / {floor}: {value:.2f}x (target <= {target}x) {verdict}")

    ratio("ask", "floor ask", 1.5)
    ratio("sql", "floor sql", 1.3)
    ratio("help", "floor help", 1.5)
    chart = median["ask + chart"] - median["ask"]
    print(f"a chart adds {chart * 1000:.0f} ms to ask; drawing it alone in a fresh process "
          f"takes {median['chart alone'] * 1000:.0f} ms")
