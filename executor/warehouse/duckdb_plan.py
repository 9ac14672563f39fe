"""Read the cost guard's figures from DuckDB's `EXPLAIN (FORMAT JSON)`.

DuckDB's planner estimates rows ("Estimated Cardinality") per operator but has no cost
model, so only MAX_SCAN_ROWS applies. The scan rows are the largest estimate of any leaf
operator (SEQ_SCAN, ...): the leaves are where rows are read. A leaf with no estimate (a
constant's DUMMY_SCAN) adds nothing, and neither does a CSV read: a CSV file seen through a
view (a one-shot command's warehouse, executor.warehouse.duckdb) is estimated from a sample
of the file at best, and with its columns declared DuckDB does not sample it and answers a
fixed guess. A plan with no estimate at all has no row estimate, and the statement is
allowed; the worker loads its CSVs into tables, whose row counts DuckDB knows exactly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from executor.warehouse.cost import CostLimits, PlanEstimate

CARDINALITY = "Estimated Cardinality"
# Leaves whose estimate is a guess, not a count (see above).
GUESSED = frozenset({"READ_CSV", "READ_CSV_AUTO"})


def plan_estimate(plan_json: str, limits: CostLimits) -> PlanEstimate:
    """The largest leaf estimate of the JSON plan; no cost (DuckDB has none)."""
    estimates = [_cardinality(leaf) for leaf in _leaves(json.loads(plan_json))]
    known = [rows for rows in estimates if rows is not None]
    return PlanEstimate(cost=None, rows=max(known) if known else None, limits=limits)


def _leaves(nodes: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for node in nodes:
        children = node.get("children") or []
        if children:
            yield from _leaves(children)
        else:
            yield node


def _cardinality(node: dict[str, Any]) -> int | None:
    if node.get("name") in GUESSED:
        return None
    value = (node.get("extra_info") or {}).get(CARDINALITY)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
