"""Artifact stores (local folder, S3 through moto), names that cannot escape their job's
folder, the reproducible bundle, full-result export and the export_results tool."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pyarrow.parquet as pq
import pytest

from bot.answer import Answer, Chart, CodeRun, Table, Usage
from bot.config import Env
from executor.artifacts import (
    BadArtifactName,
    LocalArtifactStore,
    artifact_key,
    open_artifact_store,
    save_bundle,
)
from executor.artifacts.export import export_to_store
from executor.artifacts.s3 import S3ArtifactStore
from executor.artifacts.unload import unload_statement
from executor.config import DEFAULT_INPUT, EngineConfig
from executor.errors import TooCostly, UnsafeSQL
from executor.tools.base import SavedQuery, ToolContext, ToolError
from executor.tools.export_results import export_results
from executor.warehouse.base import ResultColumn, TableInfo
from executor.warehouse.cost import CostLimits, PlanEstimate
from executor.warehouse.csv_cells import neutralise_cell, neutralising_select
from executor.warehouse.duckdb import DuckDBWarehouse
from executor.warehouse.guarded import run_guarded
from tests.support.formula_cells import (
    EXPECTED_HEADER,
    TEXT_CELLS,
    expected_rows,
    formula_cells_sql,
    read_csv,
)
from tests.support.paths import REPO

BUCKET = "databot-results-test"
MIB = 1024 * 1024

GOOD_JOB_IDS = [
    "Ev08ABCDEF",
    "3f0c2a4e-5b7d-4c1e-9a8b-0d2e4f6a8c1b",
    "13345224609.738474920.8088930838d88f008e0",
    "job_1",
]
BAD_NAMES = [
    "",
    "..",
    "../etc",
    "a/../../b",
    "a/b",
    "/abs",
    "a\\b",
    ".hidden",
    "has space",
    "x" * 129,
    "query_1.csv\n",
    "naïve",
    "a..b",
]


@pytest.fixture
def s3(mocked_s3: Any) -> Iterator[Any]:
    """An empty results bucket for each test."""
    mocked_s3.create_bucket(Bucket=BUCKET)
    yield mocked_s3
    for upload in mocked_s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []):
        mocked_s3.abort_multipart_upload(
            Bucket=BUCKET, Key=upload["Key"], UploadId=upload["UploadId"]
        )
    for item in mocked_s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        mocked_s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    mocked_s3.delete_bucket(Bucket=BUCKET)


def s3_store(client: Any, **options: Any) -> S3ArtifactStore:
    return S3ArtifactStore(BUCKET, client=client, part_size=5 * MIB, **options)


def stored(client: Any, key: str) -> bytes:
    return bytes(client.get_object(Bucket=BUCKET, Key=key)["Body"].read())


# --- names ------------------------------------------------------------------------------


@pytest.mark.parametrize("job_id", GOOD_JOB_IDS)
def test_keys_are_built_from_ids_and_fixed_names(job_id: str) -> None:
    assert artifact_key(job_id, "query_1.csv") == f"results/{job_id}/query_1.csv"


@pytest.mark.parametrize("bad", BAD_NAMES)
def test_names_that_could_escape_are_refused(bad: str) -> None:
    with pytest.raises(BadArtifactName, match="is not allowed"):
        artifact_key(bad, "answer.json")
    with pytest.raises(BadArtifactName, match="is not allowed"):
        artifact_key("Ev08ABCDEF", bad)


# --- local store ------------------------------------------------------------------------


def test_local_store_writes_under_the_job_folder_and_returns_the_path(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "results")

    link = store.put_bytes("Ev1", "answer.json", b"{}", "application/json")

    assert Path(link) == (tmp_path / "results" / "Ev1" / "answer.json").resolve()
    assert Path(link).read_bytes() == b"{}"


def test_local_store_copies_a_file(tmp_path: Path) -> None:
    source = tmp_path / "chart.png"
    source.write_bytes(b"\x89PNG")
    store = LocalArtifactStore(tmp_path / "results")

    link = store.put_file("Ev1", "chart_1.png", source, "image/png")

    assert Path(link).read_bytes() == b"\x89PNG"
    assert source.exists()


@pytest.mark.parametrize("bad", ["../outside.txt", "a/b.txt", ".."])
def test_local_store_refuses_bad_names_and_writes_nothing(tmp_path: Path, bad: str) -> None:
    store = LocalArtifactStore(tmp_path / "results")

    with pytest.raises(BadArtifactName):
        store.put_bytes("Ev1", bad, b"x", "text/plain")
    with pytest.raises(BadArtifactName):
        store.put_bytes(bad, "answer.json", b"x", "text/plain")

    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


# --- S3 store ---------------------------------------------------------------------------


def test_s3_put_bytes_stores_the_object_and_links_it_for_seven_days(s3: Any) -> None:
    store = s3_store(s3)

    link = store.put_bytes("Ev1", "answer.json", b'{"a": 1}', "application/json")

    assert stored(s3, "results/Ev1/answer.json") == b'{"a": 1}'
    head = s3.head_object(Bucket=BUCKET, Key="results/Ev1/answer.json")
    assert head["ContentType"] == "application/json"
    url = urlparse(link)
    assert url.path.endswith(f"/{BUCKET}/results/Ev1/answer.json") or url.path.endswith(
        "/results/Ev1/answer.json"
    )
    assert parse_qs(url.query)["X-Amz-Expires"] == ["604800"]


def test_s3_link_expiry_is_configurable_within_the_sigv4_limit(s3: Any) -> None:
    link = s3_store(s3, link_expiry_s=3600).link("Ev1", "query_1.csv")

    assert parse_qs(urlparse(link).query)["X-Amz-Expires"] == ["3600"]
    with pytest.raises(ValueError, match="between 1 and 604800"):
        s3_store(s3, link_expiry_s=8 * 24 * 3600)


def test_s3_put_file_uploads_large_files_in_parts(s3: Any, tmp_path: Path) -> None:
    data = os.urandom(11 * MIB)
    source = tmp_path / "query_1.csv"
    source.write_bytes(data)

    s3_store(s3).put_file("Ev1", "query_1.csv", source, "text/csv")

    assert stored(s3, "results/Ev1/query_1.csv") == data
    etag = s3.head_object(Bucket=BUCKET, Key="results/Ev1/query_1.csv")["ETag"]
    assert etag.strip('"').endswith("-3")


def test_s3_store_refuses_bad_names_before_calling_s3(s3: Any) -> None:
    with pytest.raises(BadArtifactName):
        s3_store(s3).put_bytes("Ev1", "../../other/answer.json", b"x", "text/plain")

    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


# --- choosing a store -------------------------------------------------------------------


def test_open_artifact_store_picks_s3_when_a_bucket_is_configured(s3: Any) -> None:
    config = EngineConfig.from_env(Env({"RESULTS_BUCKET": BUCKET, "RESULTS_LINK_EXPIRY_S": "600"}))

    store = open_artifact_store(config.artifacts, client=s3)

    assert isinstance(store, S3ArtifactStore)
    assert store.link_expiry_s == 600


def test_open_artifact_store_falls_back_to_the_results_folder(tmp_path: Path) -> None:
    config = EngineConfig.from_env(Env({"RESULTS_DIR": str(tmp_path / "out")}))
    store = open_artifact_store(config.artifacts)

    assert isinstance(store, LocalArtifactStore)
    assert store.root == (tmp_path / "out").resolve()


def test_the_artifacts_package_loads_boto3_only_for_an_s3_store() -> None:
    # GIVEN a fresh interpreter WHEN the package is imported and a local store opened
    code = (
        "import sys; from executor.artifacts import open_artifact_store; "
        "from executor.config import ArtifactsConfig; open_artifact_store(ArtifactsConfig()); "
        "print('boto3' in sys.modules)"
    )
    loaded = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                            text=True).stdout.strip()  # fmt: skip
    # THEN boto3 is never imported
    assert loaded == "False"


# --- the reproducible bundle ------------------------------------------------------------


CHART_SPEC = {"kind": "line", "x": "month", "y": "count", "title": "Signups per month"}


def answered() -> Answer:
    return Answer(
        text="Signups grew 12% month over month.",
        sql=[
            "SELECT date_trunc('month', signup_date) AS month, count(*) FROM users GROUP BY 1",
            "SELECT count(*) FROM users;",
        ],
        table=Table(columns=["month", "count"], rows=[["2024-01-01", 10]], total_rows=35),
        charts=[Chart(title="Signups per month", path="/tmp/chart_1.png", spec=CHART_SPEC)],
        code=[CodeRun(code="print(1 + 1)", output="2\n")],
        usage=Usage(model_id="us.amazon.nova-pro-v1:0", input_tokens=100, output_tokens=20),
    )


def test_the_bundle_holds_everything_needed_to_rerun_the_answer(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    links = save_bundle(
        store,
        "Ev1",
        "how many signups per month?",
        answered(),
        created_at=datetime(2026, 11, 21, 18, 0, tzinfo=UTC),
    )

    assert set(links) == {"answer.json", "query_1.sql", "query_2.sql"}
    saved = json.loads(Path(links["answer.json"]).read_text())
    assert saved["question"] == "how many signups per month?"
    assert saved["answer"] == "Signups grew 12% month over month."
    assert saved["model"] == "us.amazon.nova-pro-v1:0"
    assert saved["created_at"] == "2026-11-21T18:00:00Z"
    assert [q["file"] for q in saved["sql"]] == ["query_1.sql", "query_2.sql"]
    assert saved["sql"][0]["sql"].startswith("SELECT date_trunc")
    assert saved["code"] == [{"code": "print(1 + 1)", "output": "2\n", "error": None}]
    assert saved["charts"] == [{"title": "Signups per month", "spec": CHART_SPEC}]
    assert saved["total_rows"] == 35
    assert Path(links["query_2.sql"]).read_text() == "SELECT count(*) FROM users;\n"


def test_the_bundle_goes_to_s3_with_links(s3: Any) -> None:
    links = save_bundle(s3_store(s3), "Ev1", "q?", answered())

    assert json.loads(stored(s3, "results/Ev1/answer.json"))["question"] == "q?"
    assert stored(s3, "results/Ev1/query_1.sql").startswith(b"SELECT date_trunc")
    assert links["answer.json"].startswith("https://")


def test_a_bad_job_id_saves_no_bundle(tmp_path: Path) -> None:
    with pytest.raises(BadArtifactName):
        save_bundle(LocalArtifactStore(tmp_path), "../Ev1", "q?", answered())

    assert list(tmp_path.iterdir()) == []


# --- full-result export -----------------------------------------------------------------


@pytest.fixture(scope="module")
def duckdb_warehouse() -> Iterator[DuckDBWarehouse]:
    warehouse = DuckDBWarehouse(DEFAULT_INPUT)
    yield warehouse
    warehouse.close()


def user_ids() -> list[str]:
    with (DEFAULT_INPUT / "users.csv").open(newline="") as f:
        return sorted((row["user_id"] for row in csv.DictReader(f)), key=int)


EXPORT_SQL = "SELECT user_id FROM users ORDER BY user_id"


def test_export_to_a_local_store_streams_into_the_job_folder(
    duckdb_warehouse: DuckDBWarehouse, tmp_path: Path
) -> None:
    store = LocalArtifactStore(tmp_path)

    exported = export_to_store(duckdb_warehouse, store, "Ev1", EXPORT_SQL, "query_1.csv")

    assert Path(exported.link) == (tmp_path / "Ev1" / "query_1.csv").resolve()
    assert Path(exported.link).read_text().split() == ["user_id", *user_ids()]
    assert exported.rows == len(user_ids())


def test_export_to_s3_uploads_in_parts_and_leaves_no_temporary_file(
    duckdb_warehouse: DuckDBWarehouse,
    s3: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    exported = export_to_store(duckdb_warehouse, s3_store(s3), "Ev1", EXPORT_SQL, "query_1.csv")

    assert stored(s3, "results/Ev1/query_1.csv").decode().split() == ["user_id", *user_ids()]
    assert exported.rows == len(user_ids())
    assert exported.link.startswith("https://")
    assert list(tmp_path.iterdir()) == []


def test_export_refuses_unsafe_sql_and_stores_nothing(
    duckdb_warehouse: DuckDBWarehouse, s3: Any
) -> None:
    with pytest.raises(UnsafeSQL):
        export_to_store(duckdb_warehouse, s3_store(s3), "Ev1", "DELETE FROM users", "query_1.csv")

    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


@pytest.mark.parametrize("name", ["query_1.json", "../query_1.csv"])
def test_export_refuses_bad_names(
    duckdb_warehouse: DuckDBWarehouse, tmp_path: Path, name: str
) -> None:
    with pytest.raises(ValueError):
        export_to_store(duckdb_warehouse, LocalArtifactStore(tmp_path), "Ev1", EXPORT_SQL, name)

    assert list(tmp_path.iterdir()) == []


def test_export_codes_against_the_store_interface_alone() -> None:
    # GIVEN the export module's source
    source = (REPO / "executor" / "artifacts" / "export.py").read_text(encoding="utf-8")
    # THEN it neither checks which store it has nor reaches into one's client
    assert "isinstance" not in source and ".client" not in source
    assert "artifacts.local" not in source and "artifacts.s3" not in source


# --- CSV injection ----------------------------------------------------------------------


@pytest.mark.parametrize(("cell", "expected"), TEXT_CELLS)
def test_a_text_cell_starting_like_a_formula_is_prefixed_with_a_quote(
    cell: str | None, expected: str
) -> None:
    assert (neutralise_cell(cell) or "") == expected


@pytest.mark.parametrize("number", [-5, -2.5, Decimal("-0.10"), 0])
def test_numbers_are_never_neutralised(number: Any) -> None:
    assert neutralise_cell(number) is number


def test_duckdb_csv_export_neutralises_text_cells_and_keeps_negative_numbers(
    duckdb_warehouse: DuckDBWarehouse, tmp_path: Path
) -> None:
    # GIVEN a result with formula-like text, "-5" as text, NULLs, unicode and negative numbers
    path = tmp_path / "cells.csv"

    # WHEN DuckDB's COPY exports it
    result = duckdb_warehouse.export(formula_cells_sql(), path)

    # THEN every text cell that a spreadsheet would evaluate starts with a quote
    assert result.rows == len(TEXT_CELLS)
    assert read_csv(path) == (EXPECTED_HEADER, expected_rows())


def test_the_full_result_file_is_neutralised_too(
    duckdb_warehouse: DuckDBWarehouse, tmp_path: Path
) -> None:
    # WHEN the result goes to a job's artifacts as result.csv (verified answers, full results)
    exported = export_to_store(
        duckdb_warehouse, LocalArtifactStore(tmp_path), "Ev1", formula_cells_sql(), "result.csv"
    )

    # THEN it holds the neutralised cells
    assert read_csv(Path(exported.link)) == (EXPECTED_HEADER, expected_rows())


def test_duckdb_parquet_export_keeps_the_values_as_they_are(
    duckdb_warehouse: DuckDBWarehouse, tmp_path: Path
) -> None:
    # GIVEN Parquet, a typed format no spreadsheet evaluates
    path = tmp_path / "cells.parquet"

    duckdb_warehouse.export(formula_cells_sql(), path)

    assert pq.read_table(path).column("cell").to_pylist() == [cell for cell, _ in TEXT_CELLS]


def test_duckdb_describes_which_result_columns_are_free_text(
    duckdb_warehouse: DuckDBWarehouse,
) -> None:
    columns = duckdb_warehouse.result_columns(
        "SELECT 1 AS n, 2.5 AS d, 'x' AS s, DATE '2025-01-01' AS day, true AS b, "
        "INTERVAL 1 DAY AS i, plan FROM users WHERE plan = :plan",
        {"plan": "pro"},
    )

    assert [(c.name, c.free_text) for c in columns] == [
        ("n", False), ("d", False), ("s", True), ("day", False), ("b", False), ("i", True),
        ("plan", True),
    ]  # fmt: skip


def test_the_sql_wrapper_keeps_columns_of_the_same_name_apart(
    duckdb_warehouse: DuckDBWarehouse, tmp_path: Path
) -> None:
    # GIVEN a result with two columns called "v", one text and one numeric
    path = tmp_path / "same_names.csv"

    # WHEN it is exported as CSV
    duckdb_warehouse.export("SELECT '=1' AS v, -1 AS v", path)


    # THEN each keeps its own rule (COPY itself names the second one v_1, as without the wrapper)
    assert read_csv(path) == (["v", "v_1"], [["'=1", "-1"]])


def test_unload_statement_quotes_the_query_as_a_redshift_literal() -> None:
    statement = unload_statement(
        r"SELECT 'it''s' AS a, 'back\slash' AS b FROM users",
        "s3://bucket/results/Ev1/query_1_",
        "arn:aws:iam::123456789012:role/unload",
        parquet=False,
    )

    assert statement == (
        r"UNLOAD ('SELECT ''it''''s'' AS a, ''back\\slash'' AS b FROM users') "
        "TO 's3://bucket/results/Ev1/query_1_' "
        "IAM_ROLE 'arn:aws:iam::123456789012:role/unload' "
        "FORMAT CSV HEADER PARALLEL OFF MANIFEST VERBOSE ALLOWOVERWRITE EXTENSION 'csv'"
    )


def test_unload_statement_for_parquet_has_no_header() -> None:
    statement = unload_statement("SELECT 1", "s3://b/p_", "arn:r", parquet=True)

    assert "FORMAT PARQUET" in statement
    assert "HEADER" not in statement
    assert statement.endswith("EXTENSION 'parquet'")


UNLOAD_ROLE = "arn:aws:iam::123456789012:role/unload"


class UnloadingRedshift:
    """Redshift as far as UNLOAD goes. UNLOAD cannot run on PostgreSQL, so this records the
    statement and writes what Redshift would: the file and its verbose manifest."""

    dialect = "redshift"

    def __init__(self, client: Any, rows: int) -> None:
        self.client = client
        self.rows = rows
        self.statements: list[str] = []
        self.described: list[str] = []
        self.plan: PlanEstimate | None = None

    def tables(self, refresh: bool = False) -> list[TableInfo]:
        return [TableInfo(name="users", columns=[], row_count=self.rows, schema="public")]

    def estimate(self, sql: str, params: dict[str, Any] | None = None) -> PlanEstimate | None:
        return self.plan  # None: no cost limits

    def result_columns(self, sql: str, params: dict[str, Any] | None = None) -> list[ResultColumn]:
        self.described.append(sql)
        return [ResultColumn("user_id", free_text=False), ResultColumn("country", free_text=True)]

    def query(self, sql: str, max_rows: int, params: dict[str, Any] | None = None) -> None:
        self.statements.append(sql)
        written = re.search(r"TO 's3://[^/]+/([^']+)'.* EXTENSION '(\w+)'", sql)
        assert written is not None, sql
        prefix, extension = written.groups()
        key = f"{prefix}000.{extension}"
        self.client.put_object(Bucket=BUCKET, Key=key, Body=b"data")
        entry = {"url": f"s3://{BUCKET}/{key}", "meta": {"content_length": 4}}
        entry["meta"]["record_count"] = self.rows
        manifest = json.dumps({"entries": [entry]})
        self.client.put_object(Bucket=BUCKET, Key=f"{prefix}manifest", Body=manifest)


def unload(warehouse: UnloadingRedshift, store: S3ArtifactStore, sql: str, name: str) -> Any:
    return export_to_store(warehouse, store, "Ev1", sql, name)  # type: ignore[arg-type]


def test_redshift_with_an_unload_role_unloads_straight_to_the_bucket(s3: Any) -> None:
    warehouse = UnloadingRedshift(s3, rows=1234)
    store = s3_store(s3, unload_role_arn=UNLOAD_ROLE)

    exported = unload(
        warehouse, store, "select user_id from users where country = 'Spain'", "query_2.parquet"
    )

    assert warehouse.statements == [
        "UNLOAD ('SELECT user_id FROM users WHERE country = ''Spain''') "
        f"TO 's3://{BUCKET}/results/Ev1/query_2_' IAM_ROLE '{UNLOAD_ROLE}' "
        "FORMAT PARQUET PARALLEL OFF MANIFEST VERBOSE ALLOWOVERWRITE EXTENSION 'parquet'"
    ]
    assert exported.rows == 1234
    assert "/results/Ev1/query_2_000.parquet?" in exported.link


def test_unload_nests_an_outer_limit_which_redshift_refuses(s3: Any) -> None:
    warehouse = UnloadingRedshift(s3, rows=10)
    store = s3_store(s3, unload_role_arn=UNLOAD_ROLE)

    unload(warehouse, store, "SELECT * FROM users LIMIT 10", "q.parquet")

    assert warehouse.statements[0].startswith(
        "UNLOAD ('SELECT * FROM (SELECT * FROM users LIMIT 10) AS limited') "
    )


def test_unload_to_csv_selects_through_the_neutralising_wrapper(s3: Any) -> None:
    # GIVEN Redshift with an UNLOAD role, and a query with a text and a numeric column
    warehouse = UnloadingRedshift(s3, rows=10)
    store = s3_store(s3, unload_role_arn=UNLOAD_ROLE)
    sql = "SELECT user_id, country FROM users LIMIT 10"

    # WHEN it is exported as CSV
    unload(warehouse, store, sql, "q.csv")

    # THEN UNLOAD runs the query wrapped in the same rule (its LIMIT nested, as UNLOAD needs),
    # the text column neutralised in SQL and the numeric one left alone
    assert warehouse.described == [sql]
    wrapped = neutralising_select(sql, warehouse.result_columns(sql), "redshift")
    quoted = wrapped.replace("'", "''")
    assert warehouse.statements[0].startswith(f"UNLOAD ('{quoted}') ")
    assert 'q.c0 AS "user_id"' in wrapped
    assert "CAST(q.c1 AS VARCHAR(MAX))" in wrapped


def test_unload_is_refused_by_the_guard_like_any_export(s3: Any) -> None:
    warehouse = UnloadingRedshift(s3, rows=1)
    store = s3_store(s3, unload_role_arn=UNLOAD_ROLE)

    with pytest.raises(UnsafeSQL):
        unload(warehouse, store, "SELECT * FROM stl_query", "q.csv")

    assert warehouse.statements == []


def test_unload_is_refused_by_the_cost_guard_before_it_runs(s3: Any) -> None:
    # GIVEN Redshift whose plan for the export scans more rows than MAX_SCAN_ROWS allows
    warehouse = UnloadingRedshift(s3, rows=1)
    warehouse.plan = PlanEstimate(cost=None, rows=2_000_000,
                                  limits=CostLimits(max_scan_rows=1_000_000))
    store = s3_store(s3, unload_role_arn=UNLOAD_ROLE)

    with pytest.raises(TooCostly, match="MAX_SCAN_ROWS is 1,000,000"):
        unload(warehouse, store, "SELECT * FROM users", "q.parquet")

    assert warehouse.statements == []


# --- the export_results tool ------------------------------------------------------------


def tool_context(warehouse: DuckDBWarehouse, store: Any) -> ToolContext:
    return ToolContext(
        job_id="Ev1", warehouse=warehouse, artifacts=store, progress=lambda stage: None
    )


def test_the_tool_exports_a_saved_query_under_its_number(
    duckdb_warehouse: DuckDBWarehouse, tmp_path: Path
) -> None:
    context = tool_context(duckdb_warehouse, LocalArtifactStore(tmp_path))
    for n, sql in enumerate(["SELECT 1 AS one", EXPORT_SQL], start=1):
        result = run_guarded(duckdb_warehouse, sql, max_rows=5)
        context.queries.append(SavedQuery(name=f"q{n}", sql=sql, result=result))

    output = export_results(context, {"query": "q2", "format": "parquet"})

    assert output["file"] == "query_2.parquet"
    assert output["rows"] == len(user_ids())
    assert "link" not in output
    path = Path(context.links["query_2.parquet"])
    assert path == (tmp_path / "Ev1" / "query_2.parquet").resolve()
    assert [str(v) for v in pq.read_table(path).column("user_id").to_pylist()] == user_ids()


def test_the_tool_exports_a_statement_as_a_numbered_export(
    duckdb_warehouse: DuckDBWarehouse, tmp_path: Path
) -> None:
    context = tool_context(duckdb_warehouse, LocalArtifactStore(tmp_path))

    first = export_results(context, {"sql": EXPORT_SQL})
    second = export_results(context, {"sql": "SELECT DISTINCT plan FROM users"})

    assert (first["file"], second["file"]) == ("export_1.csv", "export_2.csv")
    assert set(context.links) == {"export_1.csv", "export_2.csv"}


@pytest.mark.parametrize(
    ("tool_input", "reason"),
    [
        ({}, "exactly one of `query`"),
        ({"query": "q1", "sql": "SELECT 1"}, "exactly one of `query`"),
        ({"query": "q9"}, "no query named 'q9'"),
        ({"sql": "SELECT 1", "format": "xlsx"}, "`format` must be one of csv, parquet"),
        ({"sql": "DROP TABLE users"}, "refused by the SQL guard: only single SELECT"),
        ({"sql": "SELECT nope FROM users"}, "the database rejected the export"),
    ],
)
def test_the_tool_tells_the_model_what_was_wrong(
    duckdb_warehouse: DuckDBWarehouse, tmp_path: Path, tool_input: dict[str, Any], reason: str
) -> None:
    context = tool_context(duckdb_warehouse, LocalArtifactStore(tmp_path))

    with pytest.raises(ToolError) as failed:
        export_results(context, tool_input)

    assert reason in str(failed.value)
    assert context.links == {}
