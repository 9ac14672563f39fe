"""`databot sql` and the guarded path under it, on the DuckDB warehouse over input/."""

from __future__ import annotations

import argparse
import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from executor.commands import sql as sql_command
from executor.config import DEFAULT_INPUT
from executor.errors import UnsafeSQL, WarehouseError
from executor.governance.audit_record import sql_sha256
from executor.row_limits import COMMAND_ROWS
from executor.warehouse.base import ExportResult, FetchedRows, TableInfo
from executor.warehouse.cost import CostLimits, PlanEstimate
from executor.warehouse.duckdb import DuckDBWarehouse
from executor.warehouse.guarded import export_guarded, run_guarded
from tests.support.audit import folder_records
from tests.support.cli import run_databot
from tests.support.paths import REPO

# Commands run here keep their results folder out of the checkout.
pytestmark = pytest.mark.usefixtures("private_results_dir")


def csv_rows(name: str) -> list[dict[str, str]]:
    with (DEFAULT_INPUT / name).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


USERS = csv_rows("users.csv")


class RecordingWarehouse:
    """The real DuckDB warehouse, recording what reaches it."""

    def __init__(self, inner: DuckDBWarehouse) -> None:
        self.inner = inner
        self.dialect = inner.dialect
        self.database_user = inner.database_user
        self.calls: list[tuple[str, str]] = []
        self.closed = False

    def tables(self, refresh: bool = False) -> list[TableInfo]:
        self.calls.append(("tables", ""))
        return self.inner.tables(refresh)

    def query(self, sql: str, max_rows: int, params: dict[str, Any] | None = None) -> FetchedRows:
        self.calls.append(("query", sql))
        return self.inner.query(sql, max_rows, params)

    def export(self, sql: str, path: Path, params: dict[str, Any] | None = None) -> ExportResult:
        self.calls.append(("export", sql))
        return self.inner.export(sql, path, params)

    def estimate(self, sql: str, params: dict[str, Any] | None = None) -> PlanEstimate | None:
        self.calls.append(("estimate", sql))
        return self.inner.estimate(sql, params)

    def close(self) -> None:
        self.closed = True

    @property
    def executed(self) -> list[tuple[str, str]]:
        return [call for call in self.calls if call[0] not in ("tables", "estimate")]


@pytest.fixture(scope="module")
def duckdb_warehouse() -> Iterator[DuckDBWarehouse]:
    warehouse = DuckDBWarehouse(DEFAULT_INPUT, statement_timeout_s=1)
    yield warehouse
    warehouse.close()


@pytest.fixture
def warehouse(
    duckdb_warehouse: DuckDBWarehouse, monkeypatch: pytest.MonkeyPatch
) -> RecordingWarehouse:
    recording = RecordingWarehouse(duckdb_warehouse)
    monkeypatch.setattr("executor.warehouse.factory.open_warehouse",
                        lambda settings, warm: recording)
    return recording


def databot_sql(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="databot sql")
    sql_command.add_arguments(parser)
    return sql_command.run(parser.parse_args(argv))


# --- the command ------------------------------------------------------------------------


def test_prints_the_first_rows_and_the_total(
    warehouse: RecordingWarehouse, capsys: pytest.CaptureFixture[str]
) -> None:
    code = databot_sql("SELECT user_id, country FROM users ORDER BY user_id", "--max-rows", "3")

    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["user_id", "country"]
    first = sorted(USERS, key=lambda row: int(row["user_id"]))[:3]
    for line, row in zip(lines[2:5], first, strict=True):
        assert line.split(maxsplit=1) == [row["user_id"], row["country"]]
    assert f"showing 3 of {len(USERS):,} rows" in out
    assert warehouse.closed


def test_a_single_row_reads_as_one_row(
    warehouse: RecordingWarehouse, capsys: pytest.CaptureFixture[str]
) -> None:
    assert databot_sql("SELECT COUNT(*) AS n FROM users") == 0
    assert "\n1 row in " in capsys.readouterr().out


def test_a_saved_query_file_runs_as_saved(
    warehouse: RecordingWarehouse, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a query saved with its parameters written in as literals
    from executor.warehouse.params import with_literals

    sql = "SELECT COUNT(*) AS n FROM users WHERE country = :country AND signup_date >= :start"
    saved = tmp_path / "query_1.sql"
    saved.write_text(with_literals(sql, {"country": "France", "start": date(2025, 1, 1)}) + ";\n")
    # WHEN the file path is given to databot sql
    assert databot_sql(str(saved)) == 0
    # THEN it runs and gives what the parameterised query gives
    expected = sum(
        1 for row in USERS if row["country"] == "France" and row["signup_date"] >= "2025-01-01"
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[2].strip() == str(expected)


def test_a_missing_sql_file_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        databot_sql("/nonexistent/query_9.sql")
    assert caught.value.code == 2
    assert "cannot read SQL file '/nonexistent/query_9.sql'" in capsys.readouterr().err


def test_a_small_result_is_shown_whole(capsys: pytest.CaptureFixture[str], warehouse: Any) -> None:
    plans = sorted({row["plan"] for row in USERS})

    assert databot_sql("SELECT DISTINCT plan FROM users ORDER BY plan") == 0

    out = capsys.readouterr().out
    assert [line.strip() for line in out.splitlines()[2 : 2 + len(plans)]] == plans
    assert f"\n{len(plans)} rows in " in out
    assert "showing" not in out


def test_unsafe_sql_exits_2_with_one_line_and_runs_nothing(
    warehouse: RecordingWarehouse, capsys: pytest.CaptureFixture[str]
) -> None:
    code = databot_sql("DROP TABLE users")

    captured = capsys.readouterr()
    assert code == 2
    assert captured.err == (
        "databot sql: refused: only single SELECT statements are allowed: found DROP TABLE\n"
    )
    assert captured.out == ""
    assert warehouse.executed == []


@pytest.fixture
def limited(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingWarehouse]:
    """The sample data (5,000 users) behind MAX_SCAN_ROWS=1000."""
    inner = DuckDBWarehouse(DEFAULT_INPUT, cost_limits=CostLimits(max_scan_rows=1000))
    recording = RecordingWarehouse(inner)
    monkeypatch.setattr("executor.warehouse.factory.open_warehouse",
                        lambda settings, warm: recording)
    yield recording
    inner.close()


def test_a_statement_over_the_cost_limit_exits_2_with_one_line_and_runs_nothing(
    limited: RecordingWarehouse, capsys: pytest.CaptureFixture[str]
) -> None:
    code = databot_sql("SELECT country, COUNT(*) AS n FROM users GROUP BY country")

    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.startswith("databot sql: refused: the query's plan shows an estimated ")
    assert "(MAX_SCAN_ROWS is 1,000)" in captured.err
    assert captured.err.count("\n") == 1
    assert captured.out == ""
    assert limited.executed == []


def test_a_statement_within_the_cost_limit_runs(
    limited: RecordingWarehouse, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a limit above the users table: the statement refused under 1,000 runs
    limited.inner.cost_limits = CostLimits(max_scan_rows=10_000)

    assert databot_sql("SELECT country, COUNT(*) AS n FROM users GROUP BY country") == 0
    assert [kind for kind, _ in limited.executed] == ["query"]


def test_a_database_error_exits_1_with_the_database_message(
    warehouse: RecordingWarehouse, capsys: pytest.CaptureFixture[str]
) -> None:
    code = databot_sql("SELECT no_such_column FROM users")

    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("databot sql: database error: ")
    assert "no_such_column" in err


def test_a_statement_timeout_is_a_database_error(
    warehouse: RecordingWarehouse, capsys: pytest.CaptureFixture[str]
) -> None:
    code = databot_sql("SELECT count(*) FROM interactions a, interactions b, interactions c")

    assert code == 1
    assert "timeout" in capsys.readouterr().err


def test_parameters_are_bound_with_their_types(
    warehouse: RecordingWarehouse, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = [r for r in USERS if r["country"] == "Germany" and int(r["age"]) > 60]

    code = databot_sql(
        "SELECT user_id FROM users WHERE country = :country AND age > :min_age",
        "--param",
        "country=Germany",
        "--param",
        "min_age=60",
        "--max-rows",
        "100000",
    )

    out = capsys.readouterr().out
    assert code == 0
    assert f"\n{len(expected):,} rows in " in out


@pytest.mark.parametrize(
    "argv",
    [
        ["SELECT 1", "--max-rows", "0"],
        ["SELECT 1", "--max-rows", "many"],
        ["SELECT 1", "--export", "out.json"],
        ["SELECT 1", "--export", "/no/such/folder/out.csv"],
        ["SELECT 1", "--param", "no-equals-sign"],
    ],
)
def test_bad_arguments_are_usage_errors(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        databot_sql(*argv)

    assert exited.value.code == 2
    assert "error: argument" in capsys.readouterr().err


def test_export_streams_the_whole_result_to_csv(
    warehouse: RecordingWarehouse, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "users.csv"

    code = databot_sql("SELECT user_id, plan FROM users ORDER BY user_id", "--export", str(target))

    assert code == 0
    with target.open(newline="") as f:
        exported = list(csv.DictReader(f))
    assert exported == [
        {"user_id": r["user_id"], "plan": r["plan"]}
        for r in sorted(USERS, key=lambda r: int(r["user_id"]))
    ]
    assert f"exported {len(USERS):,} rows to {target}" in capsys.readouterr().out
    assert [kind for kind, _ in warehouse.executed] == ["export"]


def test_export_writes_parquet_by_extension(warehouse: RecordingWarehouse, tmp_path: Path) -> None:
    target = tmp_path / "users.parquet"

    assert databot_sql("SELECT * FROM users", "--export", str(target)) == 0

    table = pq.read_table(target)
    assert table.num_rows == len(USERS)
    assert table.column_names == list(USERS[0])


@pytest.mark.parametrize(
    ("opened", "sql", "reason"),
    [
        ("warehouse", "SELECT * FROM read_csv('/etc/passwd')", "table function READ_CSV"),
        ("limited", "SELECT * FROM users", "(MAX_SCAN_ROWS is 1,000)"),
    ],
    ids=["unsafe", "over the cost limit"],
)
def test_a_refused_export_writes_no_file(
    opened: str, sql: str, reason: str, request: pytest.FixtureRequest, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    warehouse: RecordingWarehouse = request.getfixturevalue(opened)
    target = tmp_path / "out.csv"

    code = databot_sql(sql, "--export", str(target))

    assert code == 2
    assert reason in capsys.readouterr().err
    assert not target.exists()
    assert warehouse.executed == []


# --- the guarded path -------------------------------------------------------------------


def test_run_guarded_caps_the_fetch_and_counts_the_rest(warehouse: RecordingWarehouse) -> None:
    result = run_guarded(warehouse, "SELECT * FROM users", max_rows=7)

    assert len(result.rows) == 7
    assert result.total_rows == len(USERS)
    assert result.truncated
    ran = [sql for kind, sql in warehouse.executed]
    # one row past the cap, to tell whether the result was cut off
    assert ran[0] == "SELECT * FROM users LIMIT 8"
    assert ran[1] == "SELECT COUNT(*) AS row_count FROM (SELECT * FROM users) AS counted"


def test_run_guarded_does_not_count_a_result_that_fits(warehouse: RecordingWarehouse) -> None:
    result = run_guarded(warehouse, "SELECT DISTINCT device FROM users", max_rows=50)

    assert result.total_rows == len(result.rows) == len({r["device"] for r in USERS})
    assert len(warehouse.executed) == 1


def test_run_guarded_does_not_count_a_result_of_exactly_max_rows(
    warehouse: RecordingWarehouse,
) -> None:
    devices = len({r["device"] for r in USERS})

    result = run_guarded(warehouse, "SELECT DISTINCT device FROM users", max_rows=devices)

    assert len(result.rows) == result.total_rows == devices
    assert not result.truncated
    assert len(warehouse.executed) == 1


def test_run_guarded_counts_with_the_same_parameters(warehouse: RecordingWarehouse) -> None:
    params = {"plan": "pro"}

    result = run_guarded(
        warehouse, "SELECT user_id FROM users WHERE plan = :plan", max_rows=2, params=params
    )

    assert result.total_rows == sum(1 for r in USERS if r["plan"] == "pro")


def test_run_guarded_reads_the_schema_once_per_warehouse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads: list[DuckDBWarehouse] = []
    read_catalog = DuckDBWarehouse._read_catalog

    def counting_read_catalog(self: DuckDBWarehouse) -> list[TableInfo]:
        reads.append(self)
        return read_catalog(self)

    monkeypatch.setattr(DuckDBWarehouse, "_read_catalog", counting_read_catalog)
    warehouse = DuckDBWarehouse(DEFAULT_INPUT)
    try:
        for _ in range(3):
            run_guarded(warehouse, "SELECT count(*) FROM users", max_rows=5)
    finally:
        warehouse.close()

    assert reads == [warehouse]


def test_run_guarded_refuses_before_running(warehouse: RecordingWarehouse) -> None:
    with pytest.raises(UnsafeSQL, match=r"table pg_catalog\.pg_user is not allowed"):
        run_guarded(warehouse, "SELECT * FROM pg_catalog.pg_user", max_rows=5)

    assert warehouse.executed == []


def test_export_guarded_raises_database_errors_as_warehouse_errors(
    warehouse: RecordingWarehouse, tmp_path: Path
) -> None:
    with pytest.raises(WarehouseError, match="nope"):
        export_guarded(warehouse, "SELECT nope FROM users", tmp_path / "x.csv")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT country, count(*) FILTER (WHERE plan = 'pro') AS pro FROM users "
        "GROUP BY ALL ORDER BY 1",
        "SELECT DISTINCT ON (country) country, age FROM users ORDER BY country, age DESC",
        "SELECT date_diff('day', signup_date, churned_at) AS d FROM users ORDER BY user_id",
        "SELECT extract(dow FROM occurred_at) AS dow, count(*) FROM interactions "
        "GROUP BY 1 ORDER BY 1",
        "SELECT string_agg(DISTINCT plan, ', ' ORDER BY plan) AS plans FROM users",
        "SELECT coalesce(revenue, 0)::DOUBLE AS r FROM interactions ORDER BY interaction_id",
        "SELECT user_id, signup_date + INTERVAL 7 DAY AS week_later FROM users ORDER BY 1",
        "SELECT * EXCLUDE (city) FROM users ORDER BY user_id",
        "WITH p AS (SELECT user_id FROM interactions WHERE event_type = 'purchase') "
        "SELECT u.plan, count(DISTINCT p.user_id) FROM users u JOIN p USING (user_id) "
        "GROUP BY 1 ORDER BY 1",
    ],
)
def test_what_runs_means_what_was_written(duckdb_warehouse: DuckDBWarehouse, sql: str) -> None:
    # The guard runs the statement regenerated from its parse: the rows must not change
    # (computed columns keep their names when aliased; see docs/sql-guard.md).
    written = duckdb_warehouse.query(sql, 200_000)

    guarded = run_guarded(duckdb_warehouse, sql, max_rows=200_000)

    assert guarded.columns == written.columns
    assert guarded.rows == written.rows


class GrowingWarehouse:
    """A warehouse whose tables appear while it is open; like the real adapters it caches
    its tables and re-reads them when asked to refresh."""

    dialect = "duckdb"

    def __init__(self) -> None:
        self.names = ["users"]
        self.reads = 0
        self._tables: list[TableInfo] | None = None

    def tables(self, refresh: bool = False) -> list[TableInfo]:
        if self._tables is None or refresh:
            self.reads += 1
            self._tables = [TableInfo(name=name, columns=[], row_count=0) for name in self.names]
        return self._tables

    def query(self, sql: str, max_rows: int, params: dict[str, Any] | None = None) -> FetchedRows:
        return FetchedRows(columns=["n"], rows=[(1,)], elapsed_s=0.0)

    def estimate(self, sql: str, params: dict[str, Any] | None = None) -> None:
        return None  # no cost limits


def test_a_table_created_later_is_seen_once_the_warehouse_re_reads_its_tables() -> None:
    warehouse = GrowingWarehouse()
    run_guarded(warehouse, "SELECT * FROM users", max_rows=5)  # type: ignore[arg-type]
    run_guarded(warehouse, "SELECT * FROM users", max_rows=5)  # type: ignore[arg-type]
    assert warehouse.reads == 1
    warehouse.names.append("orders")

    # WHEN a query names the new table, the guard asks the warehouse to re-read its tables
    result = run_guarded(warehouse, "SELECT * FROM orders", max_rows=5)  # type: ignore[arg-type]
    assert result.rows == [(1,)]
    assert warehouse.reads == 2

    # WHEN a table that does not exist is named, it is refused after that one re-read
    with pytest.raises(UnsafeSQL, match="table nowhere is not allowed"):
        run_guarded(warehouse, "SELECT * FROM nowhere", max_rows=5)  # type: ignore[arg-type]
    assert warehouse.reads == 3


def test_a_person_reads_one_line_and_no_logs(tmp_path: Path) -> None:
    # GIVEN databot run as a person runs it, on a DuckDB file whose table is over the limit
    database = tmp_path / "events.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("CREATE TABLE events AS SELECT range AS id FROM range(5000)")
    env = {"WAREHOUSE_URL": f"duckdb://{database}", "MAX_SCAN_ROWS": "1000",
           "MAX_QUERY_COST": "10"}
    # WHEN a statement over it is given
    done = run_databot("sql", "SELECT COUNT(DISTINCT id) AS n FROM events", env=env)
    # THEN one line says why (no log lines around it), nothing is printed, the exit code is 2
    lines = [line for line in done.stderr.splitlines() if not line.startswith("HEAVY:")]
    assert lines == [
        "databot sql: refused: the query's plan shows an estimated 5,000 rows from one scan"
        " (MAX_SCAN_ROWS is 1,000), so it was not run: narrow the time range, filter on fewer"
        " rows, or aggregate in the query (a LIMIT alone does not reduce the rows scanned)"
    ]
    assert (done.stdout, done.returncode) == ("", 2)
def test_every_statement_is_in_the_audit_trail_as_the_person_at_the_terminal(
    warehouse: RecordingWarehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN results under tmp_path and no bucket
    monkeypatch.setenv("RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.delenv("RESULTS_BUCKET", raising=False)
    monkeypatch.delenv("AUDIT_BUCKET", raising=False)
    # WHEN a query, an export and a refused statement run
    assert databot_sql("SELECT plan FROM users") == 0
    assert databot_sql("SELECT * FROM users", "--export", str(tmp_path / "all.csv")) == 0
    assert databot_sql("DELETE FROM users") == 2
    # THEN each is recorded, written when its command ends
    query, count, export, refused = folder_records(tmp_path / "results" / "audit")
    # The preview's rows fetched (one past the cap), then the count of a cut-off result
    assert (query["action"], query["outcome"], query["rows"]) == ("query", "ok", COMMAND_ROWS + 1)
    assert (count["sql"].startswith("SELECT COUNT(*)"), count["job_id"]) == (True, query["job_id"])
    assert (export["action"], export["outcome"], export["rows"]) == ("export", "ok", len(USERS))
    assert (refused["outcome"], refused["sql"], refused["error_class"]) == (
        "refused", "DELETE FROM users", "UnsafeSQL")
    assert {(r["platform"], r["database_user"]) for r in (query, export, refused)} == {
        ("cli", "duckdb")}
    assert all(r["job_id"].startswith("sql-") for r in (query, export, refused))
    assert len({r["job_id"] for r in (query, export, refused)}) == 3
    assert query["sql_sha256"] == sql_sha256(query["sql"])


def test_stdout_holds_the_rows_and_not_the_audit_trail_s_log_lines(tmp_path: Path) -> None:
    # GIVEN a fresh process, as a person runs it WHEN a query runs
    done = run_databot("sql", "SELECT DISTINCT plan FROM users ORDER BY plan",
                       env={"RESULTS_DIR": str(tmp_path), "MODEL_PROVIDER": "offline",
                            "PYTHONPATH": str(REPO)})
    # THEN stdout is the table alone, and the record is in the trail's folder
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].split() == ["plan"]
    assert "audit |" not in done.stdout + done.stderr
    [record] = folder_records(tmp_path / "audit")
    assert (record["outcome"], record["rows"]) == ("ok", 3)
