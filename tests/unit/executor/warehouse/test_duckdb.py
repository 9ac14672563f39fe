"""The DuckDB warehouse on the sample CSVs: catalog, typed queries, parameters, export."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from executor.config import DEFAULT_INPUT, WarehouseConfig
from executor.errors import WarehouseError
from executor.warehouse.duckdb import DuckDBWarehouse
from executor.warehouse.factory import open_warehouse
from executor.warehouse.guarded import run_guarded
from executor.warehouse.params import placeholder_names, rewrite_placeholders
from executor.warehouse.schema_doc import SchemaDoc, SchemaDocError, load_schema_doc


def _csv_rows(name: str) -> int:
    return len((DEFAULT_INPUT / name).read_text(encoding="utf-8").splitlines()) - 1


@pytest.fixture(scope="module")
def warehouse() -> Iterator[DuckDBWarehouse]:
    warehouse = DuckDBWarehouse(DEFAULT_INPUT)
    yield warehouse
    warehouse.close()


def test_each_csv_is_a_table_with_declared_types_counts_and_descriptions(
    warehouse: DuckDBWarehouse,
) -> None:
    tables = {t.name: t for t in warehouse.tables()}

    assert set(tables) == {"users", "interactions"}
    assert tables["users"].row_count == _csv_rows("users.csv")
    assert tables["interactions"].row_count == _csv_rows("interactions.csv")
    types = {c.name: c.type for t in tables.values() for c in t.columns if t.name == "interactions"}
    assert types["occurred_at"] == "TIMESTAMP"
    assert types["revenue"] == "DECIMAL(10,2)"
    assert types["interaction_id"] == "BIGINT"
    user_types = {c.name: c.type for c in tables["users"].columns}
    assert user_types["signup_date"] == user_types["churned_at"] == "DATE"
    assert user_types["is_active"] == "BOOLEAN"
    assert user_types["user_id"] == "INTEGER"
    # descriptions are merged from input/schema.yaml
    assert tables["users"].description.startswith("One row per registered user")
    plan = next(c for c in tables["users"].columns if c.name == "plan")
    assert plan.description == "Current subscription plan."


def test_low_cardinality_text_columns_carry_samples(warehouse: DuckDBWarehouse) -> None:
    # GIVEN the catalog, which lists columns without reading any value
    listed = {t.name: t for t in warehouse.tables()}
    assert all(not c.samples for t in listed.values() for c in t.columns)
    # WHEN a question is about the users table THEN its samples are read for it alone
    (users,) = warehouse.with_samples([listed["users"]])
    columns = {c.name: c for c in users.columns}
    assert set(columns["plan"].samples) == {"free", "pro", "enterprise"}
    assert columns["plan"].samples[0] == "free"  # most frequent first
    assert len(columns["country"].samples) == 10
    assert columns["city"].samples == []  # 40 cities: not a category list
    assert columns["age"].samples == []  # not text


def test_query_returns_typed_values_and_at_most_max_rows_which_run_guarded_counts(
    warehouse: DuckDBWarehouse,
) -> None:
    sql = "SELECT user_id, signup_date, is_active FROM users WHERE plan = :plan ORDER BY user_id;"
    result = warehouse.query(sql, max_rows=3, params={"plan": "enterprise"})
    everyone = warehouse.query("SELECT count(*) FROM users WHERE plan = 'enterprise'", 1)

    assert result.columns == ["user_id", "signup_date", "is_active"]
    assert len(result.rows) == 3
    user_id, signup, active = result.rows[0]
    assert isinstance(user_id, int) and isinstance(signup, date) and isinstance(active, bool)
    assert result.elapsed_s > 0
    # The adapter only fetches; the guarded path counts the true total, once.
    guarded = run_guarded(warehouse, sql, max_rows=3, params={"plan": "enterprise"})
    assert guarded.rows == result.rows
    assert guarded.total_rows == everyone.rows[0][0] > 3
    assert guarded.truncated


def test_query_values_keep_timestamp_and_decimal_types(warehouse: DuckDBWarehouse) -> None:
    result = warehouse.query(
        "SELECT occurred_at, revenue FROM interactions WHERE event_type = 'purchase' "
        "AND occurred_at >= :since ORDER BY occurred_at LIMIT 1",
        10,
        {"since": datetime(2026, 1, 1)},
    )
    occurred, revenue = result.rows[0]
    assert isinstance(occurred, datetime) and occurred >= datetime(2026, 1, 1)
    assert isinstance(revenue, Decimal)
    assert len(result.rows) == 1


def test_empty_result_has_columns_and_no_rows(warehouse: DuckDBWarehouse) -> None:
    result = warehouse.query("SELECT user_id FROM users WHERE age > 200", 10)
    assert result.columns == ["user_id"]
    assert result.rows == []


def test_database_errors_become_warehouse_errors_with_the_message(
    warehouse: DuckDBWarehouse,
) -> None:
    with pytest.raises(WarehouseError, match='"no_such_column" not found'):
        warehouse.query("SELECT no_such_column FROM users", 10)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, None),
        ({"plan": "pro"}, r"no value for query parameter\(s\): :min_age"),
        ({"plan": "pro", "min_age": 30, "extra": 1}, r"not used in the SQL: :extra"),
    ],
)
def test_parameter_mismatches_are_refused_clearly(
    warehouse: DuckDBWarehouse, params: dict[str, object], message: str | None
) -> None:
    sql = "SELECT count(*) FROM users WHERE plan = :plan AND age >= :min_age"
    if message is None:
        # no parameters at all: the SQL goes to DuckDB as written, which rejects `:plan`
        with pytest.raises(WarehouseError):
            warehouse.query(sql, 10, params)
        return
    with pytest.raises(WarehouseError, match=message):
        warehouse.query(sql, 10, params)


def test_placeholders_skip_casts_strings_identifiers_and_comments() -> None:
    sql = (
        "SELECT a::int, ':not' AS \":nor\", b -- :comment\n"
        "FROM t /* :block */ WHERE c = :c AND d IN (:d, :c)"
    )
    assert placeholder_names(sql) == ["c", "d"]
    assert rewrite_placeholders(sql, lambda n: "$" + n).endswith("WHERE c = $c AND d IN ($d, $c)")
    assert "a::int, ':not' AS \":nor\"" in rewrite_placeholders(sql, lambda n: "$" + n)


def test_a_parameter_value_is_bound_never_spliced(warehouse: DuckDBWarehouse) -> None:
    hostile = "pro' OR '1'='1"
    result = warehouse.query("SELECT count(*) FROM users WHERE plan = :plan", 1, {"plan": hostile})
    assert result.rows == [(0,)]


def test_long_queries_are_cancelled_at_the_statement_timeout() -> None:
    warehouse = DuckDBWarehouse(DEFAULT_INPUT, statement_timeout_s=0.2)
    try:
        with pytest.raises(WarehouseError, match=r"longer than the 0\.2 s timeout"):
            warehouse.query(
                "SELECT count(*) FROM interactions a, interactions b WHERE a.item_id < b.item_id",
                1,
            )
        # the warehouse is still usable afterwards
        assert warehouse.query("SELECT 1", 1).rows == [(1,)]
    finally:
        warehouse.close()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_export_streams_the_whole_result_to_a_file(
    warehouse: DuckDBWarehouse, tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"purchases{suffix}"
    result = warehouse.export(
        "SELECT interaction_id, occurred_at, revenue FROM interactions "
        "WHERE event_type = :kind ORDER BY interaction_id;",
        path,
        {"kind": "purchase"},
    )
    expected = warehouse.query(
        "SELECT count(*), sum(revenue) FROM interactions WHERE event_type = 'purchase'", 1
    ).rows[0]

    assert result.rows == expected[0]
    assert result.location == str(path)
    if suffix == ".parquet":
        table = pq.read_table(path)
        assert table.num_rows == expected[0]
        assert str(table.schema.field("occurred_at").type).startswith("timestamp")
    else:
        lines = path.read_text().splitlines()
        assert lines[0] == "interaction_id,occurred_at,revenue"
        assert len(lines) == expected[0] + 1


def test_export_refuses_an_unknown_format(warehouse: DuckDBWarehouse, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.csv or \.parquet"):
        warehouse.export("SELECT 1", tmp_path / "out.xlsx")
    assert not (tmp_path / "out.xlsx").exists()


def test_concurrent_queries_from_threads_each_get_their_own_answer(
    warehouse: DuckDBWarehouse,
) -> None:
    plans = ["free", "pro", "enterprise"] * 4
    expected = {
        p: warehouse.query("SELECT count(*) FROM users WHERE plan = :p", 1, {"p": p}).rows[0][0]
        for p in set(plans)
    }
    results: dict[int, tuple[str, int]] = {}
    errors: list[BaseException] = []

    def run(i: int, plan: str) -> None:
        try:
            rows = run_guarded(
                warehouse,
                "SELECT count(*) FROM users u JOIN interactions i USING (user_id) "
                "WHERE u.plan = :p GROUP BY u.user_id",
                max_rows=5,
                params={"p": plan},
            )
            results[i] = (plan, rows.total_rows)
        except BaseException as e:  # collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i, p)) for i, p in enumerate(plans)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(results) == len(plans)
    for plan, total in results.values():
        # users of the plan with at least one interaction: never more than the plan has
        assert 0 < total <= expected[plan]
    assert len({total for plan, total in results.values() if plan == "pro"}) == 1


def test_a_folder_without_a_schema_doc_entry_is_sniffed(tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text("order_id,placed_at,paid\n1,2026-01-02 03:04:05,true\n")
    warehouse = DuckDBWarehouse(tmp_path, schema_doc=SchemaDoc())
    try:
        (table,) = warehouse.tables()
        assert table.name == "orders" and table.row_count == 1
        assert {c.name: c.type for c in table.columns}["placed_at"] == "TIMESTAMP"
    finally:
        warehouse.close()


def test_a_csv_that_does_not_match_schema_yaml_is_named_in_the_error(tmp_path: Path) -> None:
    (tmp_path / "users.csv").write_text("id,name\n1,x\n")
    with pytest.raises(WarehouseError, match=r"cannot load .*users\.csv"):
        DuckDBWarehouse(tmp_path, schema_doc=load_schema_doc(DEFAULT_INPUT / "schema.yaml"))


def test_a_missing_path_or_empty_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="neither a folder of CSV files"):
        DuckDBWarehouse(tmp_path / "nope")
    with pytest.raises(WarehouseError, match="no CSV files in"):
        DuckDBWarehouse(tmp_path)


def test_a_duckdb_file_is_opened_read_only(tmp_path: Path) -> None:
    path = tmp_path / "shop.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE items AS SELECT range AS id FROM range(5)")
    con.close()

    warehouse = DuckDBWarehouse(path, schema_doc=SchemaDoc())
    try:
        assert warehouse.query("SELECT sum(id) FROM items", 1).rows == [(10,)]
        with pytest.raises(WarehouseError, match="read-only"):
            warehouse.query("DELETE FROM items", 1)
    finally:
        warehouse.close()


def test_open_warehouse_follows_the_url(tmp_path: Path) -> None:
    warehouse = open_warehouse(WarehouseConfig(url=f"duckdb://{DEFAULT_INPUT}"))
    try:
        assert warehouse.dialect == "duckdb"
        assert {t.name for t in warehouse.tables()} == {"users", "interactions"}
    finally:
        warehouse.close()

    with pytest.raises(ValueError, match="got 'postgres'") as caught:
        open_warehouse(WarehouseConfig(url="postgres://admin:hunter2@db/x"))
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tables: [1, 2]", "tables must be a list of mappings"),
        ("tables:\n  - columns: []", r"tables\[0\] needs 'name'"),
        ("tables:\n  - name: t\n    columns:\n      - name: a", r"t\.columns\[0\] needs 'type'"),
        ("tables: [", "not valid YAML"),
    ],
)
def test_a_malformed_schema_doc_is_refused_with_the_reason(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "schema.yaml"
    path.write_text(text)
    with pytest.raises(SchemaDocError, match=message):
        load_schema_doc(path)


def test_the_sample_schema_doc_describes_every_column_and_the_relationship() -> None:
    doc = load_schema_doc(DEFAULT_INPUT / "schema.yaml")
    for table in doc.tables:
        assert table.description
        for column in table.columns:
            assert column.description and column.examples, f"{table.name}.{column.name}"
    (relationship,) = doc.relationships
    assert (relationship.source, relationship.target) == ("interactions.user_id", "users.user_id")



def test_without_preload_each_csv_is_a_view_read_only_by_the_statements_that_need_it() -> None:
    # GIVEN the sample folder opened for one command
    warehouse = DuckDBWarehouse(DEFAULT_INPUT, preload=False)
    try:
        # THEN the catalog lists every table and column with its declared type, and no
        # row count: nothing was read
        listed = {t.name: t for t in warehouse.tables()}
        assert set(listed) == {"users", "interactions"}
        assert [c.name for c in listed["users"].columns][:2] == ["user_id", "signup_date"]
        assert {t.row_count for t in listed.values()} == {None}
        types = {c.name: c.type for c in listed["interactions"].columns}
        assert types["occurred_at"] == "TIMESTAMP"
        kinds = set(warehouse._con.execute(
            "SELECT table_type FROM information_schema.tables").fetchall())
        assert kinds == {("VIEW",)}
        # and a statement reads the file, with the same answer a loaded table gives
        assert warehouse.query("SELECT count(*) FROM users", 1).rows == [
            (_csv_rows("users.csv"),)]
        revenue = "SELECT sum(revenue) FROM interactions WHERE event_type = 'purchase'"
        preloaded = DuckDBWarehouse(DEFAULT_INPUT)
        try:
            assert warehouse.query(revenue, 1).rows == preloaded.query(revenue, 1).rows
        finally:
            preloaded.close()
    finally:
        warehouse.close()


def test_a_csv_the_document_describes_whole_is_read_as_declared_and_others_are_sniffed(
    tmp_path: Path,
) -> None:
    # GIVEN two CSVs: one whose header the document names in order, one with a column more
    (tmp_path / "plans.csv").write_text("plan,price\nfree,0\npro,9.5\n", encoding="utf-8")
    (tmp_path / "seats.csv").write_text("plan,seats,note\npro,3,x\n", encoding="utf-8")
    (tmp_path / "schema.yaml").write_text(
        "tables:\n"
        "  - name: plans\n    columns:\n"
        "      - {name: plan, type: VARCHAR}\n      - {name: price, type: 'DECIMAL(10,2)'}\n"
        "  - name: seats\n    columns:\n"
        "      - {name: plan, type: VARCHAR}\n      - {name: seats, type: BIGINT}\n",
        encoding="utf-8")
    for preload in (True, False):
        warehouse = DuckDBWarehouse(tmp_path, preload=preload)
        try:
            # THEN both read with the declared types, the undeclared column sniffed
            types = {t.name: {c.name: c.type for c in t.columns} for t in warehouse.tables()}
            assert types == {"plans": {"plan": "VARCHAR", "price": "DECIMAL(10,2)"},
                             "seats": {"plan": "VARCHAR", "seats": "BIGINT",
                                       "note": "VARCHAR"}}
            assert warehouse.query("SELECT sum(price) FROM plans", 1).rows == [
                (Decimal("9.50"),)]
        finally:
            warehouse.close()


class _RowsRunOut:
    """A cursor whose rows cannot be built: DuckDB raises while fetching, not executing."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection, error: duckdb.Error) -> None:
        self._cursor, self._error = cursor, error
        self.description = None

    def execute(self, sql: str, params: object = None) -> _RowsRunOut:
        self._cursor.execute(sql, params)
        self.description = self._cursor.description
        return self

    def fetchmany(self, size: int) -> list[tuple[object, ...]]:
        raise self._error

    def interrupt(self) -> None:
        self._cursor.interrupt()


@pytest.mark.parametrize(("error", "message"), [
    (duckdb.OutOfMemoryException("Out of Memory Error: Failed to allocate block\n\nPossible "
                                 "solutions: ..."),
     "query stopped: it needs more memory than the warehouse allows"),
    (duckdb.ConversionException("Conversion Error: could not convert"),
     "Conversion Error: could not convert"),
])  # fmt: skip
def test_an_error_while_fetching_rows_is_a_warehouse_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, error: duckdb.Error, message: str,
) -> None:
    (tmp_path / "t.csv").write_text("n\n1\n")
    warehouse = DuckDBWarehouse(tmp_path)
    real = warehouse._cursor

    @contextmanager
    def failing() -> Iterator[_RowsRunOut]:
        with real() as cursor:
            yield _RowsRunOut(cursor, error)

    monkeypatch.setattr(warehouse, "_cursor", failing)
    with pytest.raises(WarehouseError) as raised:
        warehouse.query("SELECT 1 AS n", 10)
    assert str(raised.value).startswith(message) and "Possible solutions" not in str(raised.value)
