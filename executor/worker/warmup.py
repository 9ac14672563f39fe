"""What a worker loads before it reports healthy, so its first job is as fast as the next.

The job paths import their heavy modules where they first need them (so `databot ask`
and `databot sql` load only what they use): pandas and matplotlib for a chart, pyarrow for
an export, sqlglot's dialect for the guard, the sandbox's launcher. A long-running worker
pays for all of that once, at start, instead of in its first job. The warehouse and the
agent are warmed by the engine factory (`executor.router.build_warm_engine`).
"""

from __future__ import annotations

import importlib
import tempfile
import time
from pathlib import Path

from bot.observability import service_logger

logger = service_logger()

# Imported lazily by some job path; each costs tens to hundreds of milliseconds cold.
HEAVY_MODULES = (
    "pandas",
    "executor.charts.plan",
    "executor.charts.draw",  # matplotlib, with the Agg backend
    "executor.assembly",
    "pyarrow.parquet",
    "executor.warehouse.result_writers",
    "executor.sandbox.local",
)


def warm_up_modules() -> float:
    """Import the heavy modules and draw one small chart (matplotlib reads its font list
    and sets up its PNG writer on the first figure). Returns the seconds it took."""
    started = time.perf_counter()
    for name in HEAVY_MODULES:
        importlib.import_module(name)
    _draw_a_chart()
    seconds = time.perf_counter() - started
    logger.info("warmed up the job paths' modules in %.2fs", seconds)
    return seconds


def _draw_a_chart() -> None:
    from executor.charts.draw import render_chart
    from executor.charts.spec import ChartSpec

    spec = ChartSpec(kind="bar", x="day", y="jobs", title="warm-up")
    with tempfile.TemporaryDirectory(prefix="databot-warmup-") as scratch:
        render_chart(["day", "jobs"], [("mon", 1), ("tue", 2)], spec, Path(scratch) / "c.png")
