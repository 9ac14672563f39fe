"""Memory probes for the tests that hold the worker to a memory bound: the peak RSS of
this process over a block (sampled every few milliseconds), and a child's peak RSS."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

MB = 1 << 20

# Passes the SQL guard (every function is an analysis function within its bounds), yet
# builds a 256 MB value from a 16 MB aggregate: in the worker's own process this pushed
# RSS up by 2 GB, all outside DuckDB's memory_limit.
CONCAT_BLOWUP = (
    "WITH a AS (SELECT string_agg(i.device, ',') AS s FROM interactions AS i "
    "CROSS JOIN generate_series(1, 20) AS g) SELECT length(" + " || ".join(["s"] * 16) + ") AS n "
    "FROM a"
)
# The worker's own growth while a capped child does the work: replies and bookkeeping.
WORKER_BOUND_MB = 100


@dataclass
class Growth:
    peak_bytes: int = 0

    @property
    def mb(self) -> float:
        return self.peak_bytes / MB


@contextmanager
def rss_growth() -> Iterator[Growth]:
    """How far this process's RSS rose above its level at the start of the block."""
    process = psutil.Process()
    start = process.memory_info().rss
    growth = Growth()
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.002):
            growth.peak_bytes = max(growth.peak_bytes, process.memory_info().rss - start)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield growth
    finally:
        done.set()
        sampler.join()
        growth.peak_bytes = max(growth.peak_bytes, process.memory_info().rss - start)


def peak_rss_bytes(pid: int) -> int:
    """A process's high-water mark of resident memory (Linux's VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise OSError(f"no VmHWM for process {pid}")
