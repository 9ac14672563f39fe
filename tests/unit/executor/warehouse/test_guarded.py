"""`admit`, the guarded path's cost check: each estimate logged with its job, a plan over a
limit refused before anything runs, a plan without estimates allowed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bot.observability import correlated, service_logger
from executor.config import DEFAULT_INPUT
from executor.errors import TooCostly
from executor.warehouse.cost import CostLimits, PlanEstimate
from executor.warehouse.duckdb import DuckDBWarehouse
from executor.warehouse.guarded import admit, run_guarded

USERS = 5000


@pytest.fixture(scope="module")
def warehouse() -> Iterator[DuckDBWarehouse]:
    warehouse = DuckDBWarehouse(DEFAULT_INPUT, cost_limits=CostLimits(max_scan_rows=USERS))
    yield warehouse
    warehouse.close()


def test_each_estimate_is_logged_with_its_job(
    warehouse: DuckDBWarehouse, log_lines: list[dict[str, Any]]
) -> None:
    with correlated(service_logger(), "Ev0COST"):
        admit(warehouse, "SELECT country, COUNT(*) AS n FROM users GROUP BY country")

    (line,) = [line for line in log_lines if "plan estimate" in line["message"]]
    assert line["message"] == f"job_id=<Ev0COST>, cost=<None>, scan_rows=<{USERS}> | plan estimate"
    assert line["level"] == "INFO"


def test_a_refusal_is_logged_and_nothing_runs(
    warehouse: DuckDBWarehouse, log_lines: list[dict[str, Any]]
) -> None:
    with correlated(service_logger(), "Ev0COST"), pytest.raises(TooCostly):
        run_guarded(warehouse, "SELECT * FROM interactions", max_rows=5)

    assert any(line["message"].startswith("job_id=<Ev0COST> | refused by the cost guard: ")
               for line in log_lines)


class _Unestimated:
    """A warehouse whose planner gives no figures (a CSV reader that cannot tell)."""

    dialect = "duckdb"

    def __init__(self, inner: DuckDBWarehouse) -> None:
        self.inner = inner

    def tables(self, refresh: bool = False) -> Any:
        return self.inner.tables(refresh)

    def estimate(self, sql: str, params: dict[str, Any] | None = None) -> PlanEstimate:
        return PlanEstimate(cost=None, rows=None, limits=CostLimits(max_scan_rows=1))


def test_a_plan_without_estimates_is_allowed(warehouse: DuckDBWarehouse) -> None:
    checked = admit(_Unestimated(warehouse), "SELECT * FROM interactions")  # type: ignore[arg-type]

    assert checked.tables == frozenset({"interactions"})


@pytest.mark.parametrize(
    ("estimate", "refused"),
    [
        (PlanEstimate(cost=10.0, rows=10, limits=CostLimits(max_cost=10.0, max_scan_rows=10)),
         False),
        (PlanEstimate(cost=10.5, rows=10, limits=CostLimits(max_cost=10.0)), True),
        (PlanEstimate(cost=None, rows=11, limits=CostLimits(max_cost=1.0, max_scan_rows=10)),
         True),
        (PlanEstimate(cost=1e12, rows=None, limits=CostLimits(max_scan_rows=10)), False),
    ],
)
def test_a_limit_is_exceeded_only_by_an_estimate_above_it(
    estimate: PlanEstimate, refused: bool
) -> None:
    assert (estimate.refusal() is not None) == refused
