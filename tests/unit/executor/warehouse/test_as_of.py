"""The data's as-of date (executor/warehouse/as_of.py): the latest date, up to today, in
the tables a query read; one MAX query per table, kept for a few minutes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from executor.warehouse.as_of import CACHE_SECONDS, data_as_of
from executor.warehouse.base import FetchedRows
from executor.warehouse.duckdb import DuckDBWarehouse

TODAY = date(2026, 6, 1)


class CountingWarehouse(DuckDBWarehouse):
    """The DuckDB adapter, counting the queries it runs."""

    queries = 0

    def query(self, sql: str, max_rows: int, params: dict[str, Any] | None = None) -> FetchedRows:
        self.queries += 1
        return super().query(sql, max_rows, params)


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[CountingWarehouse]:
    # GIVEN events that happened up to 2026-05-10, some expiring in the future, and a
    # table without dates
    (tmp_path / "events.csv").write_text(
        "id,happened_on,expires_on\n1,2026-05-01,2026-05-20\n2,2026-05-10,2027-01-01\n"
    )
    (tmp_path / "plans.csv").write_text("name,price\nfree,0\npro,10\n")
    opened = CountingWarehouse(tmp_path)
    yield opened
    opened.close()


def test_the_latest_past_date_of_the_tables_read(warehouse: CountingWarehouse) -> None:
    # WHEN a query reads the events
    as_of = data_as_of(warehouse, ["SELECT COUNT(*) FROM events"], TODAY)
    # THEN the as-of date is the latest event, not the future expiry
    assert as_of == date(2026, 5, 10)


def test_no_dated_table_read_means_no_as_of_date(warehouse: CountingWarehouse) -> None:
    assert data_as_of(warehouse, ["SELECT * FROM plans"], TODAY) is None
    assert data_as_of(warehouse, ["DELETE FROM events"], TODAY) is None


def test_a_table_is_read_once_within_the_cache_time(warehouse: CountingWarehouse) -> None:
    # GIVEN a clock the test moves
    now = [1000.0]
    sql = ["SELECT id FROM events"]
    # WHEN asked twice within the cache time, then once after it
    data_as_of(warehouse, sql, TODAY, clock=lambda: now[0])
    data_as_of(warehouse, sql, TODAY, clock=lambda: now[0])
    first = warehouse.queries
    now[0] += CACHE_SECONDS + 1
    data_as_of(warehouse, sql, TODAY, clock=lambda: now[0])
    # THEN the table was read once, and again once the cache time had passed
    assert first == 1 and warehouse.queries == 2
