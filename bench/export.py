"""Full-result export: rows per second and peak memory of `databot sql --export`.

Generates the large data set (`input/generate.py --users N`, N from BENCH_EXPORT_USERS,
default 1,000,000: about 20 million interactions) into a temporary folder, stores it as a
DuckDB database file (the CSV-folder warehouse would hold every row in memory by design),
then exports two sizes of `SELECT * FROM interactions` as CSV and Parquet, each in a fresh
`databot sql --export` process measured by `/usr/bin/time -v`.

Target: peak resident memory under 300 MB whatever the row count.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from executor.warehouse.schema_doc import DEFAULT_SCHEMA_DOC, load_schema_doc
from tests.support.paths import REPO

TIME = Path("/usr/bin/time")
PEAK_TARGET_MB = 300
USERS = int(os.environ.get("BENCH_EXPORT_USERS", "1000000"))


@dataclass(frozen=True)
class Run:
    rows: int
    file_format: str
    seconds: float
    peak_mb: float
    file_mb: float

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds


def main() -> None:
    if not TIME.exists():
        raise SystemExit(f"{TIME} is missing: install Debian's `time` package (make system-deps)")
    with tempfile.TemporaryDirectory(prefix="databot-bench-export-") as folder:
        work = Path(folder)
        database = build_database(work, USERS)
        total = count(database, "SELECT count(*) FROM interactions")
        half = f"SELECT * FROM interactions WHERE interaction_id <= {total // 2}"
        runs = [
            export(database, sql, work / f"out.{file_format}")
            for sql in (half, "SELECT * FROM interactions")
            for file_format in ("csv", "parquet")
        ]
    header = ("rows", "format", "seconds", "rows/s", "peak MB", "file MB")
    print("{:>12}  {:7}  {:>8}  {:>11}  {:>8}  {:>8}".format(*header))
    for run in runs:
        print(
            f"{run.rows:>12,}  {run.file_format:7}  {run.seconds:>8.1f}  "
            f"{run.rows_per_s:>11,.0f}  {run.peak_mb:>8.0f}  {run.file_mb:>8.0f}"
        )
    worst = max(run.peak_mb for run in runs)
    verdict = "met" if worst < PEAK_TARGET_MB else "MISSED"
    print(f"peak memory target < {PEAK_TARGET_MB} MB: {verdict} (worst {worst:.0f} MB)")


def build_database(work: Path, users: int) -> Path:
    """Generate the CSVs, then load them (typed from input/schema.yaml) into a DuckDB file."""
    data = work / "data"
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(REPO / "input" / "generate.py"), "--users", str(users),
         "--out", str(data)],
        check=True,
    )  # fmt: skip
    print(f"generated {users:,} users in {time.perf_counter() - started:.0f} s", flush=True)
    database = work / "warehouse.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("SET enable_progress_bar = false")
        for table in load_schema_doc(DEFAULT_SCHEMA_DOC).tables:
            con.execute(
                f'CREATE TABLE "{table.name}" AS SELECT * FROM read_csv($path, header = true, '
                "column_types = $types)",
                {"path": str(data / f"{table.name}.csv"), "types": table.types()},
            )
    shutil.rmtree(data)
    return database


def count(database: Path, sql: str) -> int:
    with duckdb.connect(str(database), read_only=True) as con:
        row = con.execute(sql).fetchone()
    return int(row[0]) if row else 0


def export(database: Path, sql: str, target: Path) -> Run:
    """One `databot sql --export` in its own process, under /usr/bin/time -v."""
    databot = Path(sys.executable).with_name("databot")
    env = {**os.environ, "WAREHOUSE_URL": f"duckdb://{database}"}
    done = subprocess.run(
        [str(TIME), "-v", str(databot), "sql", sql, "--export", str(target)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"databot sql --export failed ({done.returncode}):\n{done.stderr}")
    exported = re.search(r"exported ([\d,]+) rows .* in ([\d.]+) s", done.stdout)
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    if exported is None or peak is None:
        raise SystemExit(f"unexpected output:\n{done.stdout}\n{done.stderr}")
    run = Run(
        rows=int(exported.group(1).replace(",", "")),
        file_format=target.suffix.lstrip("."),
        seconds=float(exported.group(2)),
        peak_mb=int(peak.group(1)) / 1024,
        file_mb=target.stat().st_size / 1e6,
    )
    target.unlink()
    print(f"exported {run.rows:,} rows as {run.file_format}: {run.peak_mb:.0f} MB peak", flush=True)
    return run
