"""The guarded path and full-result export on the Redshift adapter: redshift-connector to
a real PostgreSQL behind PgBouncer, S3 through moto."""

from __future__ import annotations

import argparse
import csv
import io
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from moto import mock_aws

from executor.artifacts.export import export_to_store
from executor.artifacts.s3 import S3ArtifactStore, s3_client
from executor.commands import sql as sql_command
from executor.config import DEFAULT_INPUT
from executor.errors import UnsafeSQL, WarehouseError
from executor.warehouse.csv_cells import neutralising_select
from executor.warehouse.guarded import run_guarded
from executor.warehouse.redshift.adapter import RedshiftWarehouse
from tests.support.formula_cells import (
    EXPECTED_HEADER,
    TEXT_CELLS,
    expected_rows,
    formula_cells_sql,
    read_csv,
)
from tests.support.postgres import PgBouncer

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("private_results_dir")]

BUCKET = "databot-results-it"


def users_csv() -> list[dict[str, str]]:
    with (DEFAULT_INPUT / "users.csv").open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = s3_client("us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


@pytest.fixture
def redshift_env(pgbouncer: PgBouncer, monkeypatch: pytest.MonkeyPatch) -> None:
    """`databot sql` configured for the test Redshift, as a person would configure it."""
    monkeypatch.setenv("WAREHOUSE_URL", pgbouncer.url)
    monkeypatch.setenv("REDSHIFT_PASSWORD", pgbouncer.password)
    monkeypatch.setenv("STATEMENT_TIMEOUT_S", "5")


def databot_sql(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="databot sql")
    sql_command.add_arguments(parser)
    return sql_command.run(parser.parse_args(argv))


def test_databot_sql_previews_and_counts_on_redshift(
    redshift_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    users = users_csv()

    code = databot_sql("SELECT user_id, plan FROM users ORDER BY user_id", "--max-rows", "4")

    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    first = sorted(users, key=lambda row: int(row["user_id"]))[:4]
    assert [line.split() for line in out.splitlines()[2:6]] == [
        [row["user_id"], row["plan"]] for row in first
    ]
    assert f"showing 4 of {len(users):,} rows" in out


def test_databot_sql_exports_csv_through_a_server_side_cursor(
    redshift_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    users = sorted(users_csv(), key=lambda row: int(row["user_id"]))
    target = tmp_path / "users.csv"

    code = databot_sql(
        "SELECT user_id, country, signup_date FROM users ORDER BY user_id", "--export", str(target)
    )

    assert code == 0
    with target.open(newline="") as f:
        exported = list(csv.DictReader(f))
    assert exported == [
        {key: row[key] for key in ("user_id", "country", "signup_date")} for row in users
    ]
    assert f"exported {len(users):,} rows" in capsys.readouterr().out


def test_databot_sql_exports_parquet(redshift_env: None, tmp_path: Path) -> None:
    target = tmp_path / "interactions.parquet"

    code = databot_sql(
        "SELECT interaction_id, revenue FROM interactions WHERE event_type = 'purchase'",
        "--export",
        str(target),
    )

    assert code == 0
    with (DEFAULT_INPUT / "interactions.csv").open(newline="") as f:
        purchases = [row for row in csv.DictReader(f) if row["event_type"] == "purchase"]
    assert pq.read_table(target).num_rows == len(purchases)


def test_databot_sql_refuses_other_schemas_and_catalogs(
    redshift_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    for statement in ("SELECT * FROM staging.raw_events", "SELECT usename FROM pg_user"):
        assert databot_sql(statement) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert "is not allowed" in err


def test_databot_sql_reports_the_database_message(
    redshift_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code = databot_sql("SELECT amount FROM interactions")

    assert code == 1
    assert 'column "amount" does not exist' in capsys.readouterr().err


def test_a_statement_timeout_is_a_database_error(
    redshift_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STATEMENT_TIMEOUT_S", "1")

    # A cross join of the sample interactions runs far past 1 s (pg_sleep is off the guard's list).
    code = databot_sql("SELECT count(*) AS n FROM interactions AS a CROSS JOIN interactions AS b")

    assert code == 1
    assert "statement timeout" in capsys.readouterr().err


def test_run_guarded_caps_and_counts_on_redshift(redshift_warehouse: RedshiftWarehouse) -> None:
    result = run_guarded(
        redshift_warehouse,
        "SELECT user_id FROM users WHERE plan = :plan ORDER BY user_id",
        max_rows=3,
        params={"plan": "enterprise"},
    )

    enterprise = sorted(int(r["user_id"]) for r in users_csv() if r["plan"] == "enterprise")
    assert [row[0] for row in result.rows] == enterprise[:3]
    assert result.total_rows == len(enterprise)


def test_run_guarded_refuses_before_reaching_redshift(
    redshift_warehouse: RedshiftWarehouse,
) -> None:
    with pytest.raises(UnsafeSQL, match="found DELETE"):
        run_guarded(redshift_warehouse, "DELETE FROM users", max_rows=5)


def test_export_to_s3_streams_from_the_cursor_and_uploads_in_parts(
    redshift_warehouse: RedshiftWarehouse, s3: Any
) -> None:
    # GIVEN a result of about 7 MB (half the interactions, padded) and 5 MiB parts
    store = S3ArtifactStore(BUCKET, client=s3, part_size=5 * 1024 * 1024)
    sql = (
        "SELECT i.interaction_id, i.event_type, u.country, repeat('.', 100) AS padding "
        "FROM interactions i JOIN users u ON u.user_id = i.user_id "
        "WHERE i.interaction_id % 2 = 0 ORDER BY i.interaction_id"
    )
    with (DEFAULT_INPUT / "interactions.csv").open(newline="") as f:
        expected = sum(1 for row in csv.DictReader(f) if int(row["interaction_id"]) % 2 == 0)

    # WHEN it is exported to the S3 store
    exported = export_to_store(redshift_warehouse, store, "Ev1", sql, "query_1.csv")

    # THEN every row is in the object, which went up in several parts
    body = s3.get_object(Bucket=BUCKET, Key="results/Ev1/query_1.csv")["Body"].read().decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["interaction_id", "event_type", "country", "padding"]
    assert len(rows) - 1 == exported.rows == expected
    etag = s3.head_object(Bucket=BUCKET, Key="results/Ev1/query_1.csv")["ETag"].strip('"')
    assert int(etag.rsplit("-", 1)[1]) >= 2
    assert exported.link.startswith("https://")


def test_an_export_that_fails_in_the_database_stores_nothing(
    redshift_warehouse: RedshiftWarehouse, s3: Any
) -> None:
    store = S3ArtifactStore(BUCKET, client=s3)

    with pytest.raises(WarehouseError, match="division by zero"):
        export_to_store(redshift_warehouse, store, "Ev1", "SELECT 1 / 0 AS x FROM users", "q.csv")

    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
    assert not list(Path(tempfile.gettempdir()).glob("databot-export-*"))


def test_redshift_csv_export_neutralises_text_cells_and_keeps_negative_numbers(
    redshift_warehouse: RedshiftWarehouse, tmp_path: Path
) -> None:
    # GIVEN formula-like text, "-5" as text, NULLs, unicode and negative numbers
    # (exported directly: the guard regenerates Redshift literals with \' escapes,
    # which the PostgreSQL stand-in does not read)
    path = tmp_path / "result.csv"

    # WHEN the client-side export (a server-side cursor, written in Python) writes them
    exported = redshift_warehouse.export(formula_cells_sql(), path)

    # THEN every text cell a spreadsheet would evaluate starts with a quote; numbers do not
    assert read_csv(path) == (EXPECTED_HEADER, expected_rows())
    assert exported.rows == len(TEXT_CELLS)


def test_redshift_describes_which_result_columns_are_free_text(
    redshift_warehouse: RedshiftWarehouse,
) -> None:
    columns = redshift_warehouse.result_columns(
        "SELECT user_id, country, signup_date, is_active, revenue, event_type "
        "FROM users JOIN interactions USING (user_id) WHERE plan = :plan",
        {"plan": "pro"},
    )

    assert [(c.name, c.free_text) for c in columns] == [
        ("user_id", False), ("country", True), ("signup_date", False), ("is_active", False),
        ("revenue", False), ("event_type", True),
    ]  # fmt: skip


def test_the_unload_wrapper_neutralises_in_redshift_sql(
    redshift_warehouse: RedshiftWarehouse,
) -> None:
    # GIVEN the SELECT an UNLOAD to CSV would run (UNLOAD itself needs a real Redshift;
    # PostgreSQL lacks VARCHAR(MAX), so only that cast is swapped for TEXT here)
    sql = formula_cells_sql()
    wrapped = neutralising_select(sql, redshift_warehouse.result_columns(sql), "redshift")
    assert wrapped.count("VARCHAR(MAX)") == 3  # the one text column, cast three times

    # WHEN it runs
    result = redshift_warehouse.query(wrapped.replace("VARCHAR(MAX)", "TEXT"), 100)

    # THEN it returns exactly the cells the client-side writers produce
    assert result.columns == EXPECTED_HEADER
    assert [
        ["" if value is None else str(value) for value in row] for row in result.rows
    ] == expected_rows()
