"""The Redshift warehouse without a server: how it is built from the settings and how
often it reads its catalog."""

from __future__ import annotations

import pytest

from executor.config import WarehouseConfig
from executor.warehouse.cost import CostLimits
from executor.warehouse.redshift.adapter import RedshiftWarehouse
from executor.warehouse.redshift.target import parse_url
from tests.support.redshift_driver import FakeConnection


def test_from_config_needs_some_way_to_authenticate() -> None:
    with pytest.raises(ValueError, match="REDSHIFT_PASSWORD, REDSHIFT_SECRET_ARN or iam=true"):
        RedshiftWarehouse.from_config(WarehouseConfig(url="redshift://a@host/dev"))


def test_a_forced_catalog_read_waits_for_the_minimum_interval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a warehouse on a fake driver whose catalog is empty
    log: list[str] = []
    warehouse = RedshiftWarehouse(
        parse_url("redshift://analyst@host/dev"),
        password=lambda: "pw",
        connect=lambda **kwargs: FakeConnection(log),
    )

    def catalog_reads() -> int:
        return sum("information_schema.columns" in sql for sql in log)

    # WHEN a refresh is asked for right after the first read, the cache answers
    warehouse.tables()
    warehouse.tables(refresh=True)
    assert catalog_reads() == 1

    # WHEN the minimum interval has passed, only a refresh re-reads before the 10-minute TTL
    monkeypatch.setattr(warehouse._catalog, "min_refresh_s", 0.0)
    warehouse.tables()
    assert catalog_reads() == 1
    warehouse.tables(refresh=True)
    assert catalog_reads() == 2


class _RedshiftCatalog(FakeConnection):
    """A fake Redshift: says it is Redshift, and lists one table with its statistics."""

    def execute(self, sql: str, params: object = None) -> None:
        super().execute(sql, params)
        self._last = sql

    def fetchall(self) -> list[object]:
        if "version()" in self._last:
            return [("PostgreSQL 8.0.2 on i686-pc-linux-gnu, Redshift 1.0.77467",)]
        if "information_schema.columns" in self._last:
            return [("public", "events", "kind", "character varying", 32, None, None)]
        if "svv_table_info" in self._last:
            return [("public", "events", 1_200_000, 3 * 1048576)]
        return []


def test_row_counts_and_sizes_come_from_redshifts_statistics_not_a_scan() -> None:
    log: list[str] = []
    warehouse = RedshiftWarehouse(parse_url("redshift://analyst@host/dev"),
                                  password=lambda: "pw",
                                  connect=lambda **kwargs: _RedshiftCatalog(log))
    (events,) = warehouse.tables()
    assert (events.row_count, events.size_bytes) == (1_200_000, 3 * 1048576)
    # no count(*) and no sample query: one listing, one statistics read
    assert not any("count(" in sql.lower() or "GROUP BY" in sql for sql in log)
    assert any("svv_table_info" in sql for sql in log)


def test_the_catalog_is_read_on_a_session_of_its_own() -> None:
    # GIVEN a warehouse whose connections are told apart
    logs: list[list[str]] = []

    def connect(**kwargs: object) -> FakeConnection:
        logs.append([])
        return FakeConnection(logs[-1])

    warehouse = RedshiftWarehouse(parse_url("redshift://analyst@host/dev"),
                                  password=lambda: "pw", connect=connect)
    warehouse.query("SELECT 1", 10)
    warehouse.tables()
    # THEN the query and the catalog each went to their own connection
    assert len(logs) == 2
    assert any("SELECT 1" in sql for sql in logs[0])
    assert not any("information_schema" in sql for sql in logs[0])
    assert any("information_schema" in sql for sql in logs[1])


def test_no_explain_is_sent_without_cost_limits_and_one_is_with_them() -> None:
    log: list[str] = []
    url = parse_url("redshift://analyst@host/dev")
    unlimited = RedshiftWarehouse(url, password=lambda: "pw",
                                  connect=lambda **kwargs: FakeConnection(log))
    limited = RedshiftWarehouse(url, password=lambda: "pw",
                                cost_limits=CostLimits(max_scan_rows=10),
                                connect=lambda **kwargs: FakeConnection(log))

    assert unlimited.estimate("SELECT 1") is None
    assert not any(sql.startswith("EXPLAIN") for sql in log)
    # the fake answers EXPLAIN with no lines: no figures, nothing to refuse
    estimate = limited.estimate("SELECT 1;")
    assert estimate is not None and (estimate.cost, estimate.rows) == (None, None)
    assert "EXPLAIN SELECT 1" in log
@pytest.mark.parametrize(("url", "user"), [
    ("redshift://analyst@host/dev", "analyst"),
    ("redshift://analyst@host/dev?iam=true&cluster_identifier=c1&db_user=bi_reader", "bi_reader"),
    ("redshift://analyst@host/dev?iam=true&cluster_identifier=c1", "analyst"),
])
def test_the_database_user_is_whom_it_connects_as(url: str, user: str) -> None:
    warehouse = RedshiftWarehouse(parse_url(url), password=lambda: "pw",
                                  connect=lambda **kwargs: FakeConnection([]))
    assert warehouse.database_user == user
