"""The statements that once exhausted the worker, and variants, through every door to the
warehouse: `databot sql`, the agent's run_sql and export_results, and a verified query.
Each is refused with a one-line reason before anything runs; a heavy statement the guard
accepts fails with a clear error inside DuckDB's capped process, the worker flat."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

from executor.artifacts import LocalArtifactStore
from executor.commands import sql as sql_command
from executor.config import DEFAULT_INPUT
from executor.engine import Request
from executor.errors import UserFacingError
from executor.tools.base import ToolContext, ToolError
from executor.tools.export_results import export_results
from executor.tools.run_sql import run_sql
from executor.verified.answerer import VerifiedEngine
from executor.verified.library import parse_library
from executor.verified.live import LiveLibrary
from executor.warehouse.isolated import IsolatedDuckDBWarehouse
from tests.support.cli import run_databot
from tests.support.memory import CONCAT_BLOWUP, WORKER_BOUND_MB, rss_growth
from tests.support.paths import REPO

# Commands run here keep their results folder out of the checkout.
pytestmark = pytest.mark.usefixtures("private_results_dir")

# (statement, what the one-line refusal names)
ATTACKS = [
    ("SELECT length(repeat('x', 4000000000))", "function REPEAT"),
    ("SELECT len(range(400000000))", "function GENERATE_SERIES"),
    ("SELECT length(lpad('x', 4000000000, 'y')) AS n", "function LPAD"),
    ("SELECT max(length(repeat(city, 100000000))) AS n FROM users", "function REPEAT"),
    (
        "SELECT count(*) AS n FROM users, unnest(generate_series(1, age * 100000000))",
        "function GENERATE_SERIES",
    ),
    (
        "SELECT json_serialize_plan('SELECT current_setting(''memory_limit'')') AS p",
        "function JSON_SERIALIZE_PLAN",
    ),
    ("SELECT * FROM users AS pg_catalog, pg_catalog.pg_shadow", "pg_catalog.pg_shadow"),
]


def databot_sql(sql: str, export: Path | None, capsys: pytest.CaptureFixture[str]) -> str:
    parser = argparse.ArgumentParser(prog="databot sql")
    sql_command.add_arguments(parser)
    argv = [sql] + (["--export", str(export)] if export else [])
    code = sql_command.run(parser.parse_args(argv))
    err = capsys.readouterr().err
    assert code in (1, 2), err
    return err


@pytest.fixture(scope="module")
def warehouse() -> Iterator[IsolatedDuckDBWarehouse]:
    warehouse = IsolatedDuckDBWarehouse(DEFAULT_INPUT, memory_limit="128MB")
    yield warehouse
    warehouse.close()


@pytest.fixture
def context(warehouse: IsolatedDuckDBWarehouse, tmp_path: Path) -> ToolContext:
    return ToolContext(
        job_id="J1",
        warehouse=warehouse,
        artifacts=LocalArtifactStore(tmp_path / "results"),
        progress=lambda stage: None,
    )


def verified_answer(warehouse: IsolatedDuckDBWarehouse, sql: str, tmp_path: Path) -> str:
    library = parse_library(
        {
            "entries": [
                {
                    "id": "rope",
                    "question": "How long is the rope?",
                    "paraphrases": ["rope length"],
                    "sql": sql,
                    "explanation": "A stored query.",
                    "verified_by": "tests",
                    "verified_at": date(2026, 11, 1),
                }
            ]
        }
    )
    engine = VerifiedEngine(LiveLibrary(library), warehouse, LocalArtifactStore(tmp_path))
    with pytest.raises(UserFacingError) as failed:
        engine.answer(Request(job_id="J1", question="how long is the rope?"))
    return str(failed.value)


def tool_error(
    tool: Callable[[ToolContext, dict[str, str]], object],
    context: ToolContext,
    tool_input: dict[str, str],
) -> str:
    with pytest.raises(ToolError) as failed:
        tool(context, tool_input)
    return str(failed.value)


DOORS = ["databot sql", "databot sql --export", "run_sql", "export_results", "verified query"]


def through(
    door: str, sql: str, *, context: ToolContext, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> str:
    """The error `sql` meets through `door`, as the person or the model reads it."""
    if door == "databot sql":
        return databot_sql(sql, None, capsys)
    if door == "databot sql --export":
        return databot_sql(sql, tmp_path / "out.csv", capsys)
    if door == "run_sql":
        return tool_error(run_sql, context, {"sql": sql})
    if door == "export_results":
        return tool_error(export_results, context, {"sql": sql})
    return verified_answer(context.warehouse, sql, tmp_path)  # type: ignore[arg-type]


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize(("sql", "named"), ATTACKS)
def test_the_former_attacks_are_refused_at_every_door(
    door: str,
    sql: str,
    named: str,
    context: ToolContext,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN the configured warehouse is DuckDB over the sample data
    monkeypatch.setenv("WAREHOUSE_URL", f"duckdb://{DEFAULT_INPUT}")
    # WHEN the statement arrives through the door
    with rss_growth() as worker:
        message = through(door, sql, context=context, tmp_path=tmp_path, capsys=capsys)
    # THEN it is refused with one line naming the cause, nothing was written, memory flat
    assert named in message
    assert message.strip().count("\n") == 0
    assert not (tmp_path / "out.csv").exists()
    assert context.queries == [] and context.links == {}
    assert worker.mb < WORKER_BOUND_MB


@pytest.mark.parametrize("door", DOORS)
def test_a_heavy_statement_the_guard_accepts_fails_clearly_with_the_worker_flat(
    door: str,
    context: ToolContext,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WAREHOUSE_URL", f"duckdb://{DEFAULT_INPUT}")
    monkeypatch.setenv("DUCKDB_MEMORY_LIMIT", "128MB")
    # GIVEN a statement within every guard bound that builds a 256 MB value
    # WHEN it runs through the door
    with rss_growth() as worker:
        message = through(door, CONCAT_BLOWUP, context=context, tmp_path=tmp_path, capsys=capsys)
    # THEN the person or the model reads why, and the worker's memory did not move
    assert "query stopped: it needs more memory than the warehouse allows" in message
    assert worker.mb < WORKER_BOUND_MB


def test_databot_sql_as_its_own_process_is_capped_too() -> None:
    # GIVEN `databot sql` run as a person runs it (its DuckDB child forked from it)
    # WHEN a heavy statement the guard accepts runs through it
    done = run_databot("sql", CONCAT_BLOWUP, env={
        "WAREHOUSE_URL": f"duckdb://{DEFAULT_INPUT}", "DUCKDB_MEMORY_LIMIT": "128MB",
        "MODEL_PROVIDER": "offline", "PYTHONPATH": str(REPO),
    })
    # THEN it fails clearly, inside the capped child
    assert done.returncode == 1, done.stderr
    assert "query stopped: it needs more memory than the warehouse allows" in done.stderr
