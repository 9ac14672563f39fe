"""The cost guard: a statement's plan, as the warehouse estimates it, held to the limits
MAX_QUERY_COST and MAX_SCAN_ROWS before the statement runs (docs/cost-guard.md).

Each adapter reads its own dialect's plan (`Warehouse.estimate`); the judging, the words of
a refusal and the one log line per estimate live here and in executor.warehouse.guarded.
An estimate the planner does not give (DuckDB has no cost; a CSV read may have no row
estimate) lets the statement run: the statement timeout and the warehouse's own query
monitoring stay the last line.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

# What a refusal suggests. A LIMIT is not among them: it caps the rows returned, not the
# rows a scan reads before them.
NARROWING = (
    "narrow the time range, filter on fewer rows, or aggregate in the query"
    " (a LIMIT alone does not reduce the rows scanned)"
)


@dataclass(frozen=True)
class CostLimits:
    """The most a statement's plan may estimate; None: no limit."""

    # The planner's total cost of the top node, in its own units (Redshift's, PostgreSQL's).
    max_cost: float | None = None
    # The most rows any one scan of the plan is estimated to produce.
    max_scan_rows: int | None = None

    @property
    def any(self) -> bool:
        return self.max_cost is not None or self.max_scan_rows is not None

    def without_cost(self) -> CostLimits:
        """The limits a planner with no cost model (DuckDB) can be held to."""
        return replace(self, max_cost=None)


NO_LIMITS = CostLimits()


@dataclass(frozen=True)
class PlanEstimate:
    """What the planner expects of a statement, and the limits it is held to."""

    # The top node's total cost; None when the planner has no cost model.
    cost: float | None
    # The largest row estimate of any scan (a leaf of the plan); None when none is given.
    rows: int | None
    limits: CostLimits

    def refusal(self) -> str | None:
        """Why the statement must not run (one line), or None when it is within the limits."""
        over = []
        if _exceeds(self.cost, self.limits.max_cost):
            over.append(
                f"an estimated cost of {self.cost:,.0f} (MAX_QUERY_COST is"
                f" {self.limits.max_cost:,.0f})"
            )
        if _exceeds(self.rows, self.limits.max_scan_rows):
            over.append(
                f"an estimated {self.rows:,} rows from one scan (MAX_SCAN_ROWS is"
                f" {self.limits.max_scan_rows:,})"
            )
        if not over:
            return None
        return f"the query's plan shows {' and '.join(over)}, so it was not run: {NARROWING}"


def _exceeds(estimate: float | None, limit: float | None) -> bool:
    return estimate is not None and limit is not None and estimate > limit
