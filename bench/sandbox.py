"""Sandbox figures: the per-run cost of the local backend started cold (a fresh, confined
interpreter per run) and warm (a child forked from the template, which has pandas,
scikit-learn and matplotlib imported), next to a bare interpreter start; a pandas group-by
over 100,000 rows, p50 and p95, cold vs warm, against the target; and the
machine-learning example on the sample data.

`BENCH_SANDBOX_RUNS` (default 3) sets how many runs each per-case median is taken over;
`BENCH_SANDBOX_GROUPBY_RUNS` (default 20) how many group-by runs each side makes.
"""

from __future__ import annotations

import functools
import io
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import numpy
import pandas

from executor.config import WarehouseConfig
from executor.sandbox import Limits, SandboxResult
from executor.sandbox.inputs import result_parquet
from executor.sandbox.local import LocalSandbox
from executor.sandbox.warm import Template
from executor.warehouse.factory import open_warehouse
from executor.warehouse.guarded import run_guarded
from tests.support.paths import REPO

EXAMPLES = REPO / "examples" / "sandbox"
CASES = {
    "empty program": "pass",
    "25 * 47": "print(25 * 47)",
    "import pandas": "import pandas",
    "pandas + a matplotlib figure": (
        "import pandas as pd\nimport matplotlib.pyplot as plt\n"
        "pd.Series([3, 1, 2]).plot()\nplt.title('t')"
    ),
    "import sklearn.ensemble": "import sklearn.ensemble",
}
GROUP_BY = (
    "df = load('q1')\n"
    "result = df.groupby('plan').agg(users=('user_id', 'nunique'), revenue=('revenue', 'sum'))"
    ".round(2).to_dict()"
)
GROUP_BY_ROWS = 100_000
TARGET_WARM_P50_S = 0.150


def _times_s(action: Callable[[], object], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return times


def _checked(result: SandboxResult) -> SandboxResult:
    if result.failure is not None:
        raise SystemExit(f"sandbox run failed: {result.failure.describe()}")
    return result


def _p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[-1]


def _group_by_input() -> bytes:
    """100,000 interactions-like rows: a user, a plan and an amount."""
    rng = numpy.random.default_rng(7)
    frame = pandas.DataFrame(
        {
            "user_id": rng.integers(0, 5_000, GROUP_BY_ROWS),
            "plan": rng.choice(["free", "plus", "pro", "team"], GROUP_BY_ROWS),
            "revenue": rng.gamma(2.0, 10.0, GROUP_BY_ROWS).round(2),
        }
    )
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def main() -> None:
    runs = int(os.environ.get("BENCH_SANDBOX_RUNS", "3"))
    group_by_runs = int(os.environ.get("BENCH_SANDBOX_GROUPBY_RUNS", "20"))
    template = Template()
    cold, warm = LocalSandbox(Limits()), LocalSandbox(Limits(), template=template)
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    started = time.perf_counter()
    _checked(warm.run("pass", {}))
    print(f"warm template start (imports, once per worker): {time.perf_counter() - started:5.2f} s")
    bare = statistics.median(
        _times_s(lambda: subprocess.run([sys.executable, "-s", "-c", "pass"], check=True), runs)
    )
    print(f"bare interpreter start:                 {bare * 1000:7.0f} ms (median of {runs})")
    print(f"{'sandbox run':40} {'cold':>8} {'warm':>8}")
    for label, code in CASES.items():
        medians = []
        for sandbox in (cold, warm):
            _checked(sandbox.run(code, {}))  # once to check it works and to warm the page cache
            run = functools.partial(sandbox.run, code, {})
            medians.append(statistics.median(_times_s(run, runs)))
        print(f"  {label:38} {medians[0] * 1000:6.0f} ms {medians[1] * 1000:6.0f} ms")

    inputs = {"q1": _group_by_input()}
    print(f"pandas group-by over {GROUP_BY_ROWS:,} rows ({group_by_runs} runs each):")
    p50s = {}
    for name, sandbox in (("cold", cold), ("warm", warm)):
        _checked(sandbox.run(GROUP_BY, inputs))
        times = _times_s(lambda s=sandbox: _checked(s.run(GROUP_BY, inputs)), group_by_runs)
        p50s[name] = statistics.median(times)
        print(f"  {name}: p50 {p50s[name] * 1000:6.0f} ms   p95 {_p95(times) * 1000:6.0f} ms")
    verdict = "met" if p50s["warm"] < TARGET_WARM_P50_S else "NOT met"
    print(
        f"  warm p50 target < {TARGET_WARM_P50_S * 1000:.0f} ms: {verdict} "
        f"({p50s['cold'] / p50s['warm']:.1f}x faster than cold)"
    )

    warehouse = open_warehouse(WarehouseConfig())
    try:
        sql = (EXAMPLES / "churn_features.sql").read_text(encoding="utf-8")
        features = run_guarded(warehouse, sql, max_rows=100_000)
    finally:
        warehouse.close()
    code = (EXAMPLES / "churn_model.py").read_text(encoding="utf-8")
    for name, sandbox in (("cold", cold), ("warm", warm)):
        started = time.perf_counter()
        result = _checked(sandbox.run(code, {"q1": result_parquet(features)}))
        seconds = time.perf_counter() - started
        metrics = result.result or {}
        print(
            f"churn model on {features.total_rows:,} users, {name}: {seconds:6.2f} s "
            f"(ROC AUC {metrics.get('roc_auc')} vs baseline {metrics.get('baseline_roc_auc')}, "
            f"model {len(result.files[0].data) / 1e6:.1f} MB)"
        )
    print(f"load average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    template.close()


if __name__ == "__main__":
    main()
