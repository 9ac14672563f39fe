"""A worker's first job against its steady state, started cold and started warm.

Each start is a fresh interpreter that builds the worker's engine on the sample data in
DuckDB (the warehouse opened warm, as a worker always did), with Bedrock configured and a
scripted model (no sleeping) standing in for it, then answers JOBS jobs one after another.
A job is two questions: one the verified library answers with a chart (pandas,
matplotlib) and one the agent answers with a query (the agent, the guard's dialect).

- cold: the engine as `executor.router:build_engine` builds it (the worker before warming);
  every module a job path needs is loaded by the first job that takes it.
- warm: `executor.worker.warmup.warm_up_modules()` and `RoutedEngine.warm_up()` first, as
  `databot worker` does before `/health` turns healthy.

Printed per mode: the start (until ready to poll), the first job and the median of the
rest, over RUNS starts each (interleaved); the range across starts. Target: the warm first
job at most 1.25x the steady job. What a warm first job still pays: the sample values of
the tables its question is about, which the catalog fetches on first need and keeps.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

from tests.support.paths import REPO

RUNS = 3
JOBS = 10
TARGET = 1.25

CHILD = """
import json, sys, tempfile, time
started = time.perf_counter()
from dataclasses import replace
from pathlib import Path
from executor.config import ArtifactsConfig, EngineConfig, ModelConfig, VerifiedConfig
from executor.engine import Request
from executor.router import build_engine
from tests.support.scripted_model import ScriptedModel, answer_script

mode, jobs = sys.argv[1], int(sys.argv[2])
SQL = "SELECT plan, COUNT(*) AS users FROM users GROUP BY plan ORDER BY plan"
folder = Path(tempfile.mkdtemp(prefix="databot-bench-warm-"))
config = EngineConfig(
    model=ModelConfig(provider="bedrock", region="us-east-1"),
    artifacts=ArtifactsConfig(results_dir=folder / "results"),
    verified=VerifiedConfig(path=folder / "verified_entries.yaml"),
)
model = ScriptedModel([r for _ in range(jobs) for r in answer_script(SQL, "Here.")],
                      validate=False)
if mode == "warm":
    from executor.worker.warmup import warm_up_modules
    warm_up_modules()
engine = build_engine(config, bedrock_client=model)
if mode == "warm":
    engine.warm_up()
ready = time.perf_counter() - started
seconds = []
for n in range(jobs):
    began = time.perf_counter()
    chart = engine.answer(Request(job_id=f"v{n}", question="How many users signed up each month?"))
    agent = engine.answer(Request(job_id=f"a{n}", question=f"users per plan, take {n}"))
    assert chart.verified and chart.charts and not agent.verified, "not the paths meant"
    seconds.append(time.perf_counter() - began)
print(json.dumps({"ready": ready, "jobs": seconds}))
"""


def start(mode: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "MODEL_PROVIDER": "bedrock",
           "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "bench",
           "AWS_SECRET_ACCESS_KEY": "bench"}
    for name in ("WAREHOUSE_URL", "RESULTS_BUCKET", "VERIFIED_TABLE", "AWS_PROFILE"):
        env.pop(name, None)
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(JOBS)], cwd=REPO, env=env,
                         check=True, capture_output=True, text=True).stdout
    # The child's log lines (the audit trail's among them) share its stdout.
    figures = json.loads(next(line for line in reversed(out.splitlines())
                              if line.startswith('{"ready"')))
    jobs = figures["jobs"]
    return {"ready": figures["ready"], "first": jobs[0], "steady": statistics.median(jobs[1:])}


def main() -> None:
    runs: dict[str, list[dict[str, float]]] = {"cold": [], "warm": []}
    for _ in range(RUNS):
        for mode in runs:
            runs[mode].append(start(mode))
    print(f"{JOBS} jobs per start (a verified answer with a chart + an agent answer), "
          f"{RUNS} starts per mode")
    ratios = {}
    for mode, starts in runs.items():

        def figure(name: str, starts: list[dict[str, float]] = starts) -> str:
            values = [s[name] * 1000 for s in starts]
            return f"{statistics.median(values):6.0f} ms ({min(values):.0f}-{max(values):.0f})"

        ratio = [s["first"] / s["steady"] for s in starts]
        ratios[mode] = statistics.median(ratio)
        print(f"{mode}: ready in {figure('ready')}; first job {figure('first')}; steady job "
              f"{figure('steady')}; first / steady {ratios[mode]:.2f}x "
              f"({min(ratio):.2f}-{max(ratio):.2f})")
    verdict = "ok" if ratios["warm"] <= TARGET else "OVER TARGET"
    print(f"warm first job / steady job: {ratios['warm']:.2f}x (target <= {TARGET}x) {verdict}"
          f"; cold: {ratios['cold']:.2f}x")
