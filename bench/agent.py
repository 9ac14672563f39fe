"""The agent loop's own cost per question, with the model's time taken out.

A scripted model (no sleeping) plays the usual three calls per question: run one query,
draft, confirm on reflection. What is timed is everything databot does around the model
on the sample data in DuckDB: the schema and prompt, the guarded SQL, the tool results,
the Answer. Also printed: the size of the system prompt and of the last request.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

from executor.agent import create_agent
from executor.artifacts import open_artifact_store
from executor.config import ArtifactsConfig, ModelConfig, SandboxConfig, WarehouseConfig
from executor.engine import Request
from executor.warehouse.factory import open_warehouse
from tests.support.scripted_model import ScriptedModel, answer_script

QUESTIONS = 50
QUERIES = [
    "SELECT plan, COUNT(*) AS users FROM users GROUP BY plan ORDER BY plan",
    "SELECT DATE_TRUNC('month', signup_date) AS month, COUNT(*) AS signups "
    "FROM users GROUP BY 1 ORDER BY 1",
    "SELECT category, SUM(revenue) AS revenue FROM interactions "
    "WHERE event_type = 'purchase' GROUP BY 1 ORDER BY 2 DESC",
    "SELECT u.country, COUNT(*) AS purchases FROM interactions i JOIN users u "
    "USING (user_id) WHERE i.event_type = 'purchase' GROUP BY 1 ORDER BY 2 DESC",
    "SELECT user_id, occurred_at, event_type FROM interactions ORDER BY occurred_at DESC",
]


def main() -> None:
    warehouse = open_warehouse(WarehouseConfig())
    with tempfile.TemporaryDirectory(prefix="databot-bench-") as folder:
        artifacts = open_artifact_store(ArtifactsConfig(results_dir=Path(folder)))
        script = [
            response
            for n in range(QUESTIONS)
            for response in answer_script(QUERIES[n % len(QUERIES)], "Here it is.")
        ]
        model = ScriptedModel(script, validate=False)
        agent = create_agent(ModelConfig(), SandboxConfig(), warehouse, artifacts, client=model)
        timings = []
        for n in range(QUESTIONS):
            started = time.perf_counter()
            agent.answer(Request(job_id=f"bench-{n}", question=f"question {n}"))
            timings.append(time.perf_counter() - started)
    warehouse.close()
    system = model.requests[0]["system"][0]["text"]
    last = json.dumps(model.requests[-1]["messages"])
    ordered = sorted(timings)
    print(f"questions: {QUESTIONS} (3 scripted model calls each, 1 query on the sample data)")
    print(f"first question (first schema read): {timings[0] * 1000:.1f} ms")
    print(f"per question, median: {statistics.median(timings) * 1000:.1f} ms, "
          f"p95: {ordered[int(0.95 * len(ordered)) - 1] * 1000:.1f} ms")
    print(f"system prompt: {len(system):,} characters (~{len(system) // 4:,} tokens)")
    print(f"last request's messages: {len(last):,} characters")
