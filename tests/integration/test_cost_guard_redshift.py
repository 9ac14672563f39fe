"""The cost guard on the Redshift adapter: EXPLAIN through redshift-connector and PgBouncer
to a real PostgreSQL (fixtures in tests/support/postgres.py), its plans read from text of
the same shape as Redshift's. The sample tables: users (5,000 rows), interactions (106,640)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from executor.config import WarehouseConfig
from executor.errors import TooCostly
from executor.warehouse.cost import CostLimits
from executor.warehouse.guarded import export_guarded, run_guarded
from executor.warehouse.redshift.adapter import RedshiftWarehouse
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.integration

SMALL = "SELECT country, COUNT(*) AS n FROM users GROUP BY country"
BIG = "SELECT event_type, COUNT(*) AS n FROM interactions GROUP BY event_type"
Opener = Callable[[CostLimits], RedshiftWarehouse]


@pytest.fixture
def open_limited(
    redshift_config: WarehouseConfig, postgres_server: PostgresServer
) -> Iterator[Callable[[CostLimits], RedshiftWarehouse]]:
    """Open RedshiftWarehouses under given limits, on freshly analysed tables (the planner's
    estimates come from the statistics), and close them at the end."""
    postgres_server.psql("ANALYZE public.users, public.interactions;")
    opened: list[RedshiftWarehouse] = []

    def open_with(limits: CostLimits) -> RedshiftWarehouse:
        warehouse = RedshiftWarehouse.from_config(replace(redshift_config, cost_limits=limits))
        opened.append(warehouse)
        return warehouse

    yield open_with
    for warehouse in opened:
        warehouse.close()


def test_the_plan_gives_real_estimates(open_limited: Opener) -> None:
    warehouse = open_limited(CostLimits(max_scan_rows=10**12))

    small, big = warehouse.estimate(SMALL), warehouse.estimate(BIG)

    assert small is not None and big is not None
    assert (small.rows, big.rows) == (5000, 106_640)
    assert small.cost is not None and big.cost is not None and small.cost < 1000 < big.cost


@pytest.mark.parametrize(
    ("limits", "reason"),
    [
        (CostLimits(max_scan_rows=50_000),
         r"an estimated 106,640 rows from one scan \(MAX_SCAN_ROWS is 50,000\)"),
        (CostLimits(max_cost=1000.0), r"an estimated cost of [\d,]+ \(MAX_QUERY_COST is 1,000\)"),
    ],
    ids=["scan rows", "cost"],
)
def test_a_statement_over_a_limit_is_refused_and_one_under_it_runs(
    open_limited: Opener, limits: CostLimits, reason: str
) -> None:
    warehouse = open_limited(limits)

    with pytest.raises(TooCostly, match=reason):
        run_guarded(warehouse, BIG, max_rows=10)
    assert run_guarded(warehouse, SMALL, max_rows=100).total_rows > 0


def test_parameters_are_bound_in_the_explain_as_the_query_binds_them(
    open_limited: Opener,
) -> None:
    warehouse = open_limited(CostLimits(max_scan_rows=50_000))
    sql = "SELECT COUNT(*) AS n FROM interactions WHERE event_type <> :kind"

    with pytest.raises(TooCostly):
        run_guarded(warehouse, sql, max_rows=1, params={"kind": "purchase"})
    estimate = warehouse.estimate("SELECT * FROM users WHERE country = :country",
                                  {"country": "it's"})
    assert estimate is not None and estimate.rows is not None and estimate.rows < 5000


def test_an_export_over_the_limit_writes_nothing(
    open_limited: Opener, tmp_path: Path
) -> None:
    warehouse = open_limited(CostLimits(max_scan_rows=50_000))
    target = tmp_path / "interactions.parquet"

    with pytest.raises(TooCostly):
        export_guarded(warehouse, "SELECT * FROM interactions", target)
    assert not target.exists()
