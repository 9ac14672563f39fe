"""The Redshift warehouse through redshift-connector and PgBouncer to a real PostgreSQL
holding the sample data (fixtures in tests/support/postgres.py)."""

from __future__ import annotations

import errno
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pyarrow.parquet as pq
import pytest
import redshift_connector
from moto import mock_aws

from executor.config import DEFAULT_INPUT, WarehouseConfig
from executor.errors import WarehouseError
from executor.warehouse.duckdb import DuckDBWarehouse
from executor.warehouse.factory import open_warehouse
from executor.warehouse.guarded import run_guarded
from executor.warehouse.redshift import adapter
from executor.warehouse.redshift.adapter import RedshiftWarehouse
from executor.warehouse.redshift.target import parse_url
from tests.support.postgres import READER, PgBouncer, PostgresServer, free_port, run_pgbouncer

pytestmark = pytest.mark.integration


def _csv_rows(name: str) -> int:
    return len((DEFAULT_INPUT / name).read_text(encoding="utf-8").splitlines()) - 1


def test_the_sample_data_is_loaded_and_described(redshift_warehouse: RedshiftWarehouse) -> None:
    tables = {t.name: t for t in redshift_warehouse.tables()}

    # only the configured schema: staging.raw_events is not listed
    assert set(tables) == {"users", "interactions"}
    assert {t.schema for t in tables.values()} == {"public"}
    assert tables["users"].row_count == _csv_rows("users.csv")
    assert tables["interactions"].row_count == _csv_rows("interactions.csv")
    assert tables["users"].size_bytes is not None and tables["users"].size_bytes > 0
    # sample values are read only for the tables a question is about
    assert not any(c.samples for t in tables.values() for c in t.columns)
    (interactions,) = redshift_warehouse.with_samples([tables["interactions"]])
    columns = {c.name: c for c in interactions.columns}
    assert list(columns)[:3] == ["interaction_id", "user_id", "occurred_at"]
    assert columns["occurred_at"].type == "timestamp without time zone"
    assert columns["revenue"].type == "numeric(10,2)"
    assert set(columns["event_type"].samples) == {
        "view", "click", "search", "add_to_cart", "purchase", "share",
    }  # fmt: skip
    assert columns["session_id"].samples == []
    # descriptions merged from input/schema.yaml
    assert tables["interactions"].description.startswith("One row per event")
    assert columns["revenue"].description.startswith("Order value in USD")


def test_schemas_come_from_the_url_or_the_settings(
    redshift_config: WarehouseConfig, pgbouncer: PgBouncer
) -> None:
    only_staging = RedshiftWarehouse.from_config(
        replace(redshift_config, schemas=("staging",))
    )
    both = RedshiftWarehouse.from_config(
        replace(redshift_config, url=pgbouncer.url + "&schemas=public,staging")
    )
    try:
        assert [(t.schema, t.name) for t in only_staging.tables()] == [("staging", "raw_events")]
        assert {(t.schema, t.name) for t in both.tables()} == {
            ("public", "interactions"), ("public", "users"), ("staging", "raw_events"),
        }  # fmt: skip
    finally:
        only_staging.close()
        both.close()


def test_a_table_name_in_two_schemas_keeps_each_tables_own_columns(
    redshift_config: WarehouseConfig,
) -> None:
    # GIVEN schemas public and archive, each with a table named users
    warehouse = RedshiftWarehouse.from_config(
        replace(redshift_config, schemas=("public", "archive"))
    )
    try:
        tables = {(t.schema, t.name): t for t in warehouse.with_samples(warehouse.tables())}
    finally:
        warehouse.close()

    # THEN each users table has only its own columns, samples and row count
    archived = tables[("archive", "users")]
    assert [c.name for c in archived.columns] == ["legacy_id", "tier"]
    assert archived.columns[1].samples == ["gold", "silver"]
    assert archived.row_count == 3
    current = tables[("public", "users")]
    assert "legacy_id" not in {c.name for c in current.columns}
    assert current.row_count == _csv_rows("users.csv")


def test_a_table_created_after_the_catalog_was_read_is_queryable_before_the_ttl(
    redshift_config: WarehouseConfig,
    postgres_server: PostgresServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a warehouse that has read its (empty) schema
    postgres_server.psql(
        "DROP SCHEMA IF EXISTS late CASCADE; CREATE SCHEMA late; "
        f"GRANT USAGE ON SCHEMA late TO {READER};"
    )
    warehouse = RedshiftWarehouse.from_config(
        replace(redshift_config, schemas=("late",))
    )
    try:
        assert warehouse.tables() == []
        # WHEN a table is created, and named once the minimum refresh interval (not the
        # 10-minute TTL) has passed
        postgres_server.psql(
            "CREATE TABLE late.orders AS SELECT 7 AS order_id; "
            f"GRANT SELECT ON late.orders TO {READER};"
        )
        monkeypatch.setattr(warehouse._catalog, "min_refresh_s", 0.0)

        # THEN the guard's refresh re-reads the catalog and the query runs
        result = run_guarded(warehouse, "SELECT order_id FROM late.orders", max_rows=5)
        assert result.rows == [(7,)]
    finally:
        warehouse.close()
        postgres_server.psql("DROP SCHEMA late CASCADE;")


def test_query_binds_named_parameters_and_returns_typed_rows(
    redshift_warehouse: RedshiftWarehouse,
) -> None:
    result = redshift_warehouse.query(
        "SELECT u.user_id, u.signup_date, u.is_active, i.occurred_at, i.revenue "
        "FROM users u JOIN interactions i ON i.user_id = u.user_id "
        "WHERE i.event_type = :kind AND u.plan = :plan AND i.occurred_at >= :since "
        "ORDER BY i.interaction_id",
        max_rows=4,
        params={"kind": "purchase", "plan": "enterprise", "since": datetime(2025, 1, 1)},
    )
    count = redshift_warehouse.query(
        "SELECT count(*) FROM users u JOIN interactions i ON i.user_id = u.user_id "
        "WHERE i.event_type = 'purchase' AND u.plan = 'enterprise' "
        "AND i.occurred_at >= '2025-01-01'",
        1,
    )

    assert result.columns == ["user_id", "signup_date", "is_active", "occurred_at", "revenue"]
    assert len(result.rows) == 4 and count.rows[0][0] > 4
    user_id, signup, active, occurred, revenue = result.rows[0]
    assert isinstance(user_id, int) and isinstance(signup, date)
    assert isinstance(active, bool) and isinstance(occurred, datetime)
    assert isinstance(revenue, Decimal) and occurred >= datetime(2025, 1, 1)


def test_the_loaded_data_answers_exactly_as_duckdb_does(
    redshift_warehouse: RedshiftWarehouse,
) -> None:
    sql = (
        "SELECT u.plan, count(*) AS purchases, sum(i.revenue) AS revenue "
        "FROM interactions i JOIN users u ON u.user_id = i.user_id "
        "WHERE i.event_type = :kind GROUP BY u.plan ORDER BY u.plan"
    )
    duck = DuckDBWarehouse(DEFAULT_INPUT)
    try:
        expected = duck.query(sql, 10, {"kind": "purchase"}).rows
    finally:
        duck.close()
    assert redshift_warehouse.query(sql, 10, {"kind": "purchase"}).rows == expected


def test_a_parameter_value_is_bound_never_spliced(redshift_warehouse: RedshiftWarehouse) -> None:
    result = redshift_warehouse.query(
        "SELECT count(*) FROM users WHERE plan = :plan", 1, {"plan": "pro' OR '1'='1"}
    )
    assert result.rows == [(0,)]


def test_a_missing_parameter_is_refused_before_anything_runs(
    redshift_warehouse: RedshiftWarehouse,
) -> None:
    with pytest.raises(WarehouseError, match=r"no value for query parameter\(s\): :plan"):
        redshift_warehouse.query("SELECT 1 WHERE :plan = :other", 1, {"other": 1})


def test_the_statement_timeout_cancels_a_slow_query(redshift_config: WarehouseConfig) -> None:
    warehouse = RedshiftWarehouse.from_config(replace(redshift_config, statement_timeout_s=1))
    try:
        assert warehouse.query("SHOW statement_timeout", 1).rows == [("1s",)]
        with pytest.raises(WarehouseError, match="statement timeout"):
            warehouse.query("SELECT pg_sleep(3)", 1)
        # the session survives the cancellation
        assert warehouse.query("SELECT 2", 1).rows == [(2,)]
    finally:
        warehouse.close()


def test_a_terminated_backend_is_reconnected_and_the_next_query_succeeds(
    redshift_config: WarehouseConfig, postgres_server: PostgresServer
) -> None:
    warehouse = RedshiftWarehouse.from_config(redshift_config)
    try:
        (first_pid,) = warehouse.query("SELECT pg_backend_pid()", 1).rows[0]
        # WHEN an administrator terminates the session from another connection
        killed = postgres_server.psql(f"SELECT pg_terminate_backend({first_pid});")
        assert killed.strip() == "t"

        # THEN the next query succeeds, on a new backend with the session settings again
        (second_pid,) = warehouse.query("SELECT pg_backend_pid()", 1).rows[0]
        assert second_pid != first_pid
        assert warehouse.query("SHOW statement_timeout", 1).rows == [("5s",)]
    finally:
        warehouse.close()


class Connections:
    """redshift_connector.connect, keeping each connection so that a test can break it
    where the network would: the driver's socket stream, or the driver itself."""

    def __init__(self) -> None:
        self.opened: list[Any] = []
        # Installed on every new connection when set: a failure that never heals.
        self.break_each: Callable[[Any], None] | None = None

    def __call__(self, **kwargs: Any) -> Any:
        conn = redshift_connector.connect(**kwargs)
        self.opened.append(conn)
        if self.break_each is not None:
            self.break_each(conn)
        return conn


def reading_fails_with(error: BaseException) -> Callable[[Any], None]:
    def install(conn: Any) -> None:
        def read(size: int = -1) -> bytes:
            raise error

        conn._read = read

    return install


def writing_fails_with(error: BaseException) -> Callable[[Any], None]:
    def install(conn: Any) -> None:
        def write(data: bytes) -> int:
            raise error

        conn._write = write

    return install


def reading_returns(data: bytes) -> Callable[[Any], None]:
    """The stream ends (b"") or stops part-way through a message header."""

    def install(conn: Any) -> None:
        conn._read = lambda size=-1: data

    return install


def the_driver_raises(error: BaseException) -> Callable[[Any], None]:
    def install(conn: Any) -> None:
        def execute(*args: Any, **kwargs: Any) -> None:
            raise error

        conn.execute = execute

    return install


@pytest.fixture
def connections() -> Connections:
    return Connections()


@pytest.fixture
def breakable(pgbouncer: PgBouncer, connections: Connections) -> Iterator[RedshiftWarehouse]:
    """A warehouse whose connections the test can break (5 s statement timeout)."""
    warehouse = RedshiftWarehouse(
        parse_url(pgbouncer.url),
        password=lambda: pgbouncer.password,
        statement_timeout_s=5,
        connect=connections,
    )
    yield warehouse
    warehouse.close()


BROKEN_CONNECTIONS = {
    "reset on read": reading_fails_with(ConnectionResetError(104, "Connection reset by peer")),
    "reset on write": writing_fails_with(ConnectionResetError(104, "Connection reset by peer")),
    "broken pipe on write": writing_fails_with(BrokenPipeError(32, "Broken pipe")),
    "socket timeout on read": reading_fails_with(TimeoutError("timed out")),
    "network unreachable": writing_fails_with(OSError(errno.ENETUNREACH, "unreachable")),
    "end of stream": reading_returns(b""),
    "stream cut inside a header": reading_returns(b"Z\x00"),
    "driver network error": the_driver_raises(redshift_connector.InterfaceError("network error")),
    "driver connection closed": the_driver_raises(
        redshift_connector.InterfaceError("connection is closed")
    ),
    "driver connection time out": the_driver_raises(
        redshift_connector.OperationalError("connection time out", TimeoutError())
    ),
    "server connection failure": the_driver_raises(
        redshift_connector.ProgrammingError({"C": "08006", "M": "connection failure"})
    ),
    "pgbouncer lost its server": the_driver_raises(
        redshift_connector.ProgrammingError({"C": "08P01", "M": "server conn crashed?"})
    ),
    "administrator shutdown": the_driver_raises(
        redshift_connector.ProgrammingError({"C": "57P01", "M": "terminating connection"})
    ),
}


@pytest.mark.parametrize("breaking", BROKEN_CONNECTIONS.values(), ids=BROKEN_CONNECTIONS.keys())
def test_a_read_is_retried_once_on_a_new_connection_however_the_old_one_broke(
    breakable: RedshiftWarehouse, connections: Connections, breaking: Callable[[Any], None]
) -> None:
    # GIVEN a connected warehouse whose connection then breaks
    assert breakable.query("SELECT 1", 1).rows == [(1,)]
    breaking(connections.opened[0])

    # WHEN the next read-only query runs
    result = breakable.query("SELECT count(*) FROM users WHERE plan = :plan", 1, {"plan": "pro"})

    # THEN it ran again on a second connection, which has the session settings
    assert result.rows[0][0] > 0
    assert len(connections.opened) == 2
    assert breakable.query("SHOW statement_timeout", 1).rows == [("5s",)]
    assert len(connections.opened) == 2


def test_a_connection_that_breaks_again_fails_after_one_retry(
    breakable: RedshiftWarehouse, connections: Connections
) -> None:
    # GIVEN a network that resets every connection once it is set up
    assert breakable.query("SELECT 1", 1).rows == [(1,)]
    reset = reading_fails_with(ConnectionResetError(104, "Connection reset by peer"))
    reset(connections.opened[0])
    connections.break_each = lambda conn: _after_setup(conn, reset)

    # WHEN a query runs, THEN it fails clearly after exactly one new connection
    with pytest.raises(WarehouseError, match="lost the connection to Redshift"):
        breakable.query("SELECT 1", 1)
    assert len(connections.opened) == 2


def _after_setup(conn: Any, breaking: Callable[[Any], None]) -> Any:
    """Break `conn` once the warehouse has set its session up (SET statement_timeout)."""
    commit = conn.commit

    def commit_then_break() -> None:
        commit()
        breaking(conn)

    conn.commit = commit_then_break
    return conn


def test_a_statement_that_is_not_read_only_is_never_retried(
    breakable: RedshiftWarehouse, connections: Connections
) -> None:
    # GIVEN a broken connection
    assert breakable.query("SELECT 1", 1).rows == [(1,)]
    reading_fails_with(ConnectionResetError(104, "Connection reset by peer"))(connections.opened[0])

    # WHEN a statement that writes runs (the guard never lets one through)
    with pytest.raises(WarehouseError, match="lost the connection to Redshift"):
        breakable.query("CREATE TEMP TABLE scratch AS SELECT 1 AS x", 1)

    # THEN it was not run again; the next query gets a new connection
    assert len(connections.opened) == 1
    assert breakable.query("SELECT 2", 1).rows == [(2,)]
    assert len(connections.opened) == 2


def test_a_statement_timeout_is_not_a_broken_connection(
    pgbouncer: PgBouncer, connections: Connections
) -> None:
    warehouse = RedshiftWarehouse(
        parse_url(pgbouncer.url),
        password=lambda: pgbouncer.password,
        statement_timeout_s=1,
        connect=connections,
    )
    try:
        (pid,) = warehouse.query("SELECT pg_backend_pid()", 1).rows[0]
        # WHEN a read-only query runs past the statement timeout
        with pytest.raises(WarehouseError, match="statement timeout"):
            warehouse.query("SELECT pg_sleep(3)", 1)

        # THEN it was neither retried nor its connection dropped
        assert len(connections.opened) == 1
        assert warehouse.query("SELECT pg_backend_pid()", 1).rows == [(pid,)]
    finally:
        warehouse.close()


def test_a_pgbouncer_restart_is_survived(postgres_server: PostgresServer, tmp_path: Path) -> None:
    # GIVEN a warehouse connected through its own PgBouncer
    port = free_port()
    workdir = postgres_server.workdir / f"pgbouncer-{port}"
    with run_pgbouncer(postgres_server, workdir, port) as bouncer:
        warehouse = RedshiftWarehouse(
            parse_url(bouncer.url), password=lambda: bouncer.password
        )
        (first_pid,) = warehouse.query("SELECT pg_backend_pid()", 1).rows[0]
    try:
        # WHEN PgBouncer stops and starts again on the same port
        with run_pgbouncer(postgres_server, workdir, port):
            # THEN the next query succeeds on a new server connection
            (second_pid,) = warehouse.query("SELECT pg_backend_pid()", 1).rows[0]
            assert second_pid != first_pid
            assert warehouse.query("SELECT count(*) FROM users", 1).rows == [(5_000,)]
    finally:
        warehouse.close()


def test_database_errors_carry_the_message_and_leave_the_session_usable(
    redshift_warehouse: RedshiftWarehouse,
) -> None:
    with pytest.raises(WarehouseError, match='column "no_such_column" does not exist'):
        redshift_warehouse.query("SELECT no_such_column FROM users", 1)
    assert redshift_warehouse.query("SELECT count(*) FROM users", 1).rows[0][0] == 5_000


def test_nothing_a_query_does_is_committed(redshift_warehouse: RedshiftWarehouse) -> None:
    # the guard never lets this through; the adapter's rollback is the second line
    redshift_warehouse.query("CREATE TEMP TABLE scratch AS SELECT 1 AS x", 1)
    with pytest.raises(WarehouseError, match='relation "scratch" does not exist'):
        redshift_warehouse.query("SELECT x FROM scratch", 1)


def test_queries_from_many_threads_share_the_connection_safely(
    redshift_warehouse: RedshiftWarehouse,
) -> None:
    results: dict[int, Any] = {}
    errors: list[BaseException] = []

    def run(user_id: int) -> None:
        try:
            results[user_id] = redshift_warehouse.query(
                "SELECT user_id FROM users WHERE user_id = :id", 1, {"id": user_id}
            ).rows
        except BaseException as e:  # collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(1, 21)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert results == {i: [(i,)] for i in range(1, 21)}


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_export_streams_every_row_in_chunks(
    redshift_warehouse: RedshiftWarehouse,
    tmp_path: Path,
    suffix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN small chunks, so the export takes several FETCHes
    monkeypatch.setattr(adapter, "EXPORT_CHUNK_ROWS", 1_000)
    path = tmp_path / f"views{suffix}"

    result = redshift_warehouse.export(
        "SELECT interaction_id, occurred_at, revenue, event_type = 'purchase' AS bought "
        "FROM interactions WHERE category = :category ORDER BY interaction_id;",
        path,
        {"category": "books"},
    )
    (expected,) = redshift_warehouse.query(
        "SELECT count(*) FROM interactions WHERE category = 'books'", 1
    ).rows[0]

    assert expected > 3 * 1_000
    assert result.rows == expected
    if suffix == ".parquet":
        table = pq.read_table(path)
        assert table.num_rows == expected
        assert str(table.schema.field("occurred_at").type) == "timestamp[us]"
        assert str(table.schema.field("bought").type) == "bool"
        assert table.column("interaction_id").to_pylist() == sorted(
            table.column("interaction_id").to_pylist()
        )
    else:
        lines = path.read_text(encoding="utf-8").splitlines()
        assert lines[0] == "interaction_id,occurred_at,revenue,bought"
        assert len(lines) == expected + 1
        assert all(line.endswith((",true", ",false")) for line in lines[1:])
    # the session is still usable after the cursor is closed
    assert redshift_warehouse.query("SELECT 1", 1).rows == [(1,)]


def test_connect_opens_both_sessions_and_reads_the_catalog_at_once(
    breakable: RedshiftWarehouse, connections: Connections, monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads: list[int] = []
    read = breakable._read_catalog

    def counted(cursor: Any) -> Any:
        reads.append(1)
        return read(cursor)

    monkeypatch.setattr(breakable, "_read_catalog", counted)
    # WHEN a worker connects its warehouse at start
    breakable.connect()
    # THEN the query session and the catalog's are open, and the catalog read
    assert len(connections.opened) == 2 and len(reads) == 1
    # AND the first question opens nothing more and reads no catalog again
    assert {t.name for t in breakable.tables()} >= {"users", "interactions"}
    assert breakable.query("SELECT count(*) FROM users", 1).rows[0][0] > 0
    assert len(connections.opened) == 2 and len(reads) == 1


def test_a_warm_open_of_an_unreachable_redshift_fails_at_once(
    redshift_config: WarehouseConfig,
) -> None:
    # GIVEN a WAREHOUSE_URL on a port where nothing listens
    url = f"redshift://{READER}@127.0.0.1:{free_port()}/dev"
    config = replace(redshift_config, url=url)
    # WHEN it is opened warm (a worker's start) THEN that fails, naming the server
    with pytest.raises(WarehouseError, match=r"cannot connect to Redshift at 127\.0\.0\.1"):
        open_warehouse(config)
    # AND opened cold (a one-shot command) it connects only on first use
    cold = open_warehouse(config, warm=False)
    with pytest.raises(WarehouseError, match=r"cannot connect to Redshift at 127\.0\.0\.1"):
        cold.query("SELECT 1", 1)


def test_a_wrong_password_fails_clearly_without_echoing_it(
    redshift_config: WarehouseConfig,
) -> None:
    warehouse = RedshiftWarehouse.from_config(
        replace(redshift_config, redshift_password="wrong-secret-value")
    )
    with pytest.raises(WarehouseError, match="cannot connect to Redshift") as caught:
        warehouse.query("SELECT 1", 1)
    assert "wrong-secret-value" not in str(caught.value)


def test_the_password_can_come_from_secrets_manager_fetched_once(
    redshift_config: WarehouseConfig, pgbouncer: PgBouncer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        client = boto3.client(
            "secretsmanager",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        arn = client.create_secret(
            Name="databot/redshift", SecretString=json.dumps({"password": pgbouncer.password})
        )["ARN"]
        calls: list[str] = []
        original = client.get_secret_value

        def counting_get_secret_value(**kwargs: Any) -> Any:
            calls.append(kwargs["SecretId"])
            return original(**kwargs)

        monkeypatch.setattr(client, "get_secret_value", counting_get_secret_value)
        settings = replace(redshift_config, redshift_password=None, redshift_secret_arn=arn)
        warehouse = open_warehouse(settings, secrets_client=client)
        try:
            assert warehouse.dialect == "redshift"
            assert warehouse.query("SELECT current_user", 1).rows == [(pgbouncer.user,)]
            warehouse.close()  # a re-connect reuses the cached password
            assert warehouse.query("SELECT 1", 1).rows == [(1,)]
        finally:
            warehouse.close()
        assert calls == [arn]


def test_a_catalog_refresh_never_holds_up_a_question(redshift_config: WarehouseConfig) -> None:
    # GIVEN a warehouse whose catalog has aged past its TTL, and whose next catalog read
    # stays under way until the test lets it finish
    warehouse = RedshiftWarehouse.from_config(redshift_config)
    try:
        warehouse.tables()
        reading, release = threading.Event(), threading.Event()
        read = warehouse._read_catalog

        def slow_read(cursor: Any) -> Any:
            reading.set()
            assert release.wait(30)
            return read(cursor)

        warehouse._read_catalog = slow_read  # type: ignore[method-assign]
        warehouse._catalog._clock = lambda: 1e12
        # WHEN a question runs while the refresh holds its session
        warehouse.tables()
        assert reading.wait(30)
        answered: list[Any] = []
        question = threading.Thread(target=lambda: answered.append(
            run_guarded(warehouse, "SELECT count(*) FROM users", max_rows=1).rows))
        question.start()
        question.join(30)
        # THEN it is answered, guard and all, before the refresh is let finish
        assert answered == [[(_csv_rows("users.csv"),)]]
        release.set()
        warehouse._catalog.wait()
    finally:
        release.set()
        warehouse.close()
