"""A scripted engine for tests and benchmarks that are about the worker, not the agent.

`ScriptedEngine` reports progress stages, waits `delay_s` per turn (standing in for a model
call) and, given a `gate`, until it is set before answering, with `stream` writes its text
into the request's draft a few characters at a time, then returns an Answer with SQL, a
table preview and a real PNG chart, or raises the error it was given.
`scripted_engine_from_env` builds one in a worker subprocess (`databot worker --engine
tests.support.scripted_engine:scripted_engine_from_env`); this module stays light so that
subprocess starts fast.
"""

from __future__ import annotations

import json
import os
import struct
import sys
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from bot.answer import Answer, Chart, Table, Usage
from executor.config import EngineConfig
from executor.engine import Engine, Request

STAGES = ("Reading the schema", "Running SQL", "Drawing a chart")


def png_bytes(width: int = 4, height: int = 3) -> bytes:
    """A valid (grey) PNG image, written by hand so tests need no plotting library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixels))
            + chunk(b"IEND", b""))


@dataclass
class ScriptedEngine:
    turns: int = 3
    delay_s: float = 0.0
    error: Exception | None = None
    text: str = "**42** users signed up in March."
    chart_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()))
    requests: list[Request] = field(default_factory=list)
    stream: bool = False
    gate: threading.Event | None = None

    def answer(self, request: Request) -> Answer:
        self.requests.append(request)
        for turn in range(self.turns):
            request.progress(STAGES[turn % len(STAGES)])
            if self.delay_s:
                time.sleep(self.delay_s)
        if self.gate is not None:
            assert self.gate.wait(30), "the test never let the answer through"
        if self.stream and request.draft is not None:
            for start in range(0, len(self.text), 8):
                request.draft.write(self.text[start:start + 8])
        if self.error is not None:
            raise self.error
        chart = self.chart_dir / f"chart-{request.job_id}.png"
        chart.write_bytes(png_bytes())
        return Answer(
            text=self.text,
            sql=["SELECT date_trunc('month', signup_date) AS month, count(*) AS users "
                 "FROM users GROUP BY 1 ORDER BY 1"],
            table=Table(columns=["month", "users"], rows=[["2026-03-01", 42]], total_rows=1),
            charts=[Chart(title="Signups by month", path=str(chart))],
            artifacts={"results.csv": f"https://example.invalid/results/{request.job_id}.csv"},
            usage=Usage(model_id="scripted", input_tokens=1200, output_tokens=80, seconds=0.1),
        )


def scripted_engine_from_env(config: EngineConfig) -> ScriptedEngine:
    """The engine of a worker subprocess: TEST_ENGINE_DELAY_S per turn, TEST_ENGINE_TURNS."""
    return ScriptedEngine(
        turns=int(os.environ.get("TEST_ENGINE_TURNS", "3")),
        delay_s=float(os.environ.get("TEST_ENGINE_DELAY_S", "0")),
    )


# What a worker loads at start (executor.worker.warmup), reported by `held_engine_from_env`.
WARM_MODULES = ("pandas", "matplotlib", "pyarrow.parquet", "executor.charts.draw",
                "executor.sandbox.local")


def held_engine_from_env(config: EngineConfig) -> ScriptedEngine:
    """A scripted engine whose factory writes to TEST_ENGINE_PROBE which of WARM_MODULES
    the worker had loaded before it was called, then holds the worker's start until the
    file TEST_ENGINE_RELEASE exists."""
    loaded = {name: name in sys.modules for name in WARM_MODULES}
    Path(os.environ["TEST_ENGINE_PROBE"]).write_text(json.dumps(loaded))
    release = Path(os.environ["TEST_ENGINE_RELEASE"])
    while not release.exists():
        time.sleep(0.05)
    return scripted_engine_from_env(config)


def agent_from_env(config: EngineConfig) -> Engine:
    """The real agent (warehouse, artifacts, tools) with a scripted model, for a worker
    subprocess: the Converse responses are read from the JSON file MODEL_SCRIPT and played
    with MODEL_DELAY_S per call. Every request is validated against bedrock-runtime's model."""
    from executor.agent import create_agent
    from executor.artifacts import open_artifact_store
    from executor.warehouse.factory import open_warehouse
    from tests.support.scripted_model import ScriptedModel

    script = json.loads(Path(os.environ["MODEL_SCRIPT"]).read_text())
    model = ScriptedModel(script, delay_s=float(os.environ.get("MODEL_DELAY_S", "0")))
    return create_agent(config.model, config.sandbox, open_warehouse(config.warehouse),
                        open_artifact_store(config.artifacts), client=model)
