"""The verified-query path: matching cost per question, what a fresh process pays to load
the library, an offline answer end to end, and `make demo`'s wall time.

- matching: every question of tests/data/verified_eval.yaml, RUNS passes; median and 95th
  percentile per question. Target: median at most MATCH_TARGET_MS.
- load: load_library() + Matcher() in this process (YAML, sqlglot parse of every entry).
- answer: VerifiedEngine.answer on DuckDB for three questions (one number, a bar chart, a
  151-row line chart with CSV export), after one warm-up each; median of RUNS.
- demo: `python -m executor.demo` in a fresh interpreter, as `make demo` runs it once
  installed. Target: under DEMO_TARGET_S.
"""

from __future__ import annotations

import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import yaml

from bot.observability import service_name
from executor.artifacts import LocalArtifactStore
from executor.config import WarehouseConfig
from executor.engine import Request
from executor.verified import Matcher, load_library
from executor.verified.answerer import VerifiedEngine
from executor.verified.live import LiveLibrary
from executor.warehouse.factory import open_warehouse
from tests.support.paths import REPO

RUNS = 5
MATCH_TARGET_MS = 5.0
DEMO_TARGET_S = 120.0
EVAL_SET = REPO / "tests" / "data" / "verified_eval.yaml"
ANSWERS = ("users who never purchased", "revenue by plan", "signups by week")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def main() -> None:
    logging.getLogger(service_name()).setLevel(logging.WARNING)  # one INFO line per answer
    started = time.perf_counter()
    library = load_library()
    matcher = Matcher(library)
    print(
        f"load: {len(library.entries)} entries, library + matcher in "
        f"{_ms(time.perf_counter() - started)}"
    )

    eval_set = yaml.safe_load(EVAL_SET.read_text())
    questions = [item["q"] for part in eval_set.values() for item in part]
    timings = []
    for _ in range(RUNS):
        for question in questions:
            began = time.perf_counter()
            matcher.match(question)
            timings.append(time.perf_counter() - began)
    median = statistics.median(timings)
    p95 = statistics.quantiles(timings, n=20)[-1]
    verdict = "ok" if median * 1000 <= MATCH_TARGET_MS else "OVER TARGET"
    print(
        f"matching: {len(questions)} questions x {RUNS}: median {_ms(median)}, "
        f"p95 {_ms(p95)} (target median <= {MATCH_TARGET_MS} ms: {verdict})"
    )

    with tempfile.TemporaryDirectory(prefix="databot-bench-") as folder:
        warehouse = open_warehouse(WarehouseConfig())
        engine = VerifiedEngine(
            LiveLibrary(library),
            warehouse,
            LocalArtifactStore(Path(folder)),
            today=lambda: date(2026, 11, 21),
        )
        for question in ANSWERS:
            runs = []
            for n in range(RUNS + 1):
                began = time.perf_counter()
                engine.answer(Request(job_id=f"bench-{n}", question=question))
                runs.append(time.perf_counter() - began)
            print(
                f"answer {question!r}: median {_ms(statistics.median(runs[1:]))} "
                f"(first {_ms(runs[0])})"
            )
        warehouse.close()

        env = {**os.environ, "RESULTS_DIR": folder, "MODEL_PROVIDER": "offline"}
        began = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "executor.demo"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - began
    verdict = "ok" if done.returncode == 0 and seconds < DEMO_TARGET_S else "FAILED"
    print(
        f"demo: exit {done.returncode} in {seconds:.1f} s "
        f"(target < {DEMO_TARGET_S:.0f} s: {verdict})"
    )
