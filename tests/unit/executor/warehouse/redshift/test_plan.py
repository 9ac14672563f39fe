"""The cost guard's reading of EXPLAIN text: Redshift's plans (as its documentation prints
them) and PostgreSQL's, the same shape without `XN`."""

from __future__ import annotations

import pytest

from executor.warehouse.cost import CostLimits
from executor.warehouse.redshift.plan import plan_estimate

LIMITS = CostLimits(max_cost=1e9, max_scan_rows=1_000_000)

REDSHIFT_GROUP_BY = """\
XN HashAggregate  (cost=131.97..133.41 rows=576 width=17)
  ->  XN Seq Scan on event  (cost=0.00..87.98 rows=8798 width=17)
"""

# A broadcast join: Redshift adds a large fixed cost to the steps above it.
REDSHIFT_BROADCAST_JOIN = """\
XN Merge  (cost=1002815366604.92..1002815366606.36 rows=576 width=27)
  Merge Key: sum(sales.pricepaid)
  ->  XN Network  (cost=1002815366604.92..1002815366606.36 rows=576 width=27)
        Send to leader
        ->  XN Sort  (cost=1002815366604.92..1002815366606.36 rows=576 width=27)
              Sort Key: sum(sales.pricepaid)
              ->  XN HashAggregate  (cost=2815366577.07..2815366578.51 rows=576 width=27)
                    ->  XN Hash Join DS_BCAST_INNER  (cost=109.98..2815365714.80 rows=172456 width=27)
                          Hash Cond: ("outer".eventid = "inner".eventid)
                          ->  XN Seq Scan on sales  (cost=0.00..1724.56 rows=172456 width=14)
                          ->  XN Hash  (cost=87.98..87.98 rows=8798 width=21)
                                ->  XN Seq Scan on event  (cost=0.00..87.98 rows=8798 width=21)
"""  # noqa: E501

# The join's output (5,698,378) is smaller than what one scan reads (6,001,215).
REDSHIFT_LIMITED_JOIN = """\
XN Limit  (cost=1004400430902.15..1004400430902.17 rows=10 width=39)
  ->  XN Merge  (cost=1004400430902.15..1004400430926.97 rows=9928 width=39)
        Merge Key: sum(li.l_quantity)
        ->  XN Network  (cost=1004400430902.15..1004400430926.97 rows=9928 width=39)
              Send to leader
              ->  XN Sort  (cost=1004400430902.15..1004400430926.97 rows=9928 width=39)
                    Sort Key: sum(li.l_quantity)
                    ->  XN HashAggregate  (cost=4400430218.24..4400430243.06 rows=9928 width=39)
                          ->  XN Hash Join DS_BCAST_INNER  (cost=21489.58..4400401726.35 rows=5698378 width=39)
                                Hash Cond: ("outer".l_suppkey = "inner".s_suppkey)
                                ->  XN Hash Join DS_DIST_NONE  (cost=21364.58..273387.85 rows=5698378 width=14)
                                      Hash Cond: ("outer".l_orderkey = "inner".o_orderkey)
                                      ->  XN Seq Scan on lineitem li  (cost=0.00..60012.15 rows=6001215 width=22)
                                      ->  XN Hash  (cost=17803.81..17803.81 rows=1424306 width=8)
                                            ->  XN Seq Scan on orders o  (cost=0.00..17803.81 rows=1424306 width=8)
                                                  Filter: (o_orderdate > '1992-05-01'::date)
                                ->  XN Hash  (cost=100.00..100.00 rows=10000 width=33)
                                      ->  XN Seq Scan on supplier s  (cost=0.00..100.00 rows=10000 width=33)
"""  # noqa: E501

POSTGRES_JOIN = """\
HashAggregate  (cost=1234.50..1236.50 rows=200 width=40)
  Group Key: u.country
  ->  Hash Join  (cost=210.52..1109.50 rows=25000 width=32)
        Hash Cond: (i.user_id = u.user_id)
        ->  Seq Scan on interactions i  (cost=0.00..834.00 rows=25000 width=8)
              Filter: (occurred_at >= '2026-01-01'::date)
        ->  Hash  (cost=125.23..125.23 rows=6823 width=36)
              ->  Seq Scan on users u  (cost=0.00..125.23 rows=6823 width=36)
"""

POSTGRES_BITMAP_AND_INIT_PLAN = """\
Aggregate  (cost=95.12..95.13 rows=1 width=8)
  InitPlan 1 (returns $0)
    ->  Result  (cost=0.00..0.01 rows=1 width=4)
  ->  Bitmap Heap Scan on users  (cost=5.06..94.85 rows=110 width=0)
        Recheck Cond: (user_id > $0)
        ->  Bitmap Index Scan on users_pkey  (cost=0.00..5.03 rows=2274 width=0)
              Index Cond: (user_id > $0)
"""


@pytest.mark.parametrize(
    ("plan", "cost", "rows"),
    [
        (REDSHIFT_GROUP_BY, 133.41, 8798),
        (REDSHIFT_BROADCAST_JOIN, 1002815366606.36, 172456),
        (REDSHIFT_LIMITED_JOIN, 1004400430902.17, 6001215),
        (POSTGRES_JOIN, 1236.50, 25000),
        (POSTGRES_BITMAP_AND_INIT_PLAN, 95.13, 2274),
    ],
)
def test_the_top_cost_and_the_largest_scan_are_read(plan: str, cost: float, rows: int) -> None:
    estimate = plan_estimate(plan.splitlines(), LIMITS)

    assert estimate.cost == pytest.approx(cost)
    assert estimate.rows == rows
    assert estimate.limits == LIMITS


def test_a_plan_above_the_limits_is_refused_with_both_reasons() -> None:
    refusal = plan_estimate(REDSHIFT_LIMITED_JOIN.splitlines(), LIMITS).refusal()

    assert refusal is not None and "\n" not in refusal
    assert "an estimated cost of 1,004,400,430,902 (MAX_QUERY_COST is 1,000,000,000)" in refusal
    assert "an estimated 6,001,215 rows from one scan (MAX_SCAN_ROWS is 1,000,000)" in refusal


def test_a_plan_within_the_limits_passes() -> None:
    assert plan_estimate(REDSHIFT_GROUP_BY.splitlines(), LIMITS).refusal() is None


def test_text_without_plan_nodes_has_no_estimate() -> None:
    estimate = plan_estimate(["QUERY PLAN", "----------", "LD Seq Scan"], LIMITS)

    assert (estimate.cost, estimate.rows, estimate.refusal()) == (None, None, None)
