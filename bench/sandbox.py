"""Sandbox figures: the per-run overhead of the local backend (a confined child process)
next to a bare interpreter start, the cost of the usual imports inside it, and the
machine-learning example on the sample data.

`BENCH_SANDBOX_RUNS` (default 5) sets how many runs each median is taken over.
"""

from __future__ import annotations

import functools
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from executor.config import WarehouseConfig
from executor.sandbox import Limits, SandboxResult
from executor.sandbox.inputs import result_parquet
from executor.sandbox.local import LocalSandbox
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


def _median_s(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _checked(result: SandboxResult) -> SandboxResult:
    if result.failure is not None:
        raise SystemExit(f"sandbox run failed: {result.failure.describe()}")
    return result


def main() -> None:
    runs = int(os.environ.get("BENCH_SANDBOX_RUNS", "5"))
    sandbox = LocalSandbox(Limits())
    bare = _median_s(lambda: subprocess.run([sys.executable, "-s", "-c", "pass"], check=True), runs)
    print(f"bare interpreter start:                 {bare * 1000:7.0f} ms (median of {runs})")
    for label, code in CASES.items():
        _checked(sandbox.run(code, {}))  # once to check it works and to warm the page cache
        seconds = _median_s(functools.partial(sandbox.run, code, {}), runs)
        print(f"sandbox run, {label + ':':29} {seconds * 1000:7.0f} ms")

    warehouse = open_warehouse(WarehouseConfig())
    try:
        sql = (EXAMPLES / "churn_features.sql").read_text(encoding="utf-8")
        features = run_guarded(warehouse, sql, max_rows=100_000)
    finally:
        warehouse.close()
    code = (EXAMPLES / "churn_model.py").read_text(encoding="utf-8")
    started = time.perf_counter()
    result = _checked(sandbox.run(code, {"q1": result_parquet(features)}))
    seconds = time.perf_counter() - started
    metrics = result.result or {}
    print(
        f"churn model on {features.total_rows:,} users:  {seconds:7.2f} s "
        f"(ROC AUC {metrics.get('roc_auc')} vs baseline {metrics.get('baseline_roc_auc')}, "
        f"model {len(result.files[0].data) / 1e6:.1f} MB)"
    )


if __name__ == "__main__":
    main()
