"""Read the cost guard's figures from Redshift's EXPLAIN text (and PostgreSQL's, the same
shape without Redshift's `XN` prefix).

Each plan node is a line `[->]  Name  (cost=startup..total rows=n width=w)`, its children
indented below it; other lines (`Filter: …`, `Send to leader`, `InitPlan`) are details.
The statement's cost is the top node's total cost, which already includes its children's.
Its scan rows are the largest `rows=` of any leaf node: the leaves are where rows are read
(`Seq Scan`, `Index Scan`, Redshift's `S3 Query Scan`, ...), and a node above them may
estimate fewer rows (an aggregate) or more (a join) than were read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from executor.warehouse.cost import CostLimits, PlanEstimate

_NODE = re.compile(
    r"^(?P<indent>\s*(?:->\s*)?)\S.*?\(cost=[\d.]+\.\.(?P<cost>[\d.]+)\s+rows=(?P<rows>\d+)"
)


@dataclass(frozen=True)
class _Node:
    depth: int
    cost: float
    rows: int


def plan_estimate(lines: Iterable[str], limits: CostLimits) -> PlanEstimate:
    """The top node's total cost and the largest leaf's rows of an EXPLAIN's text lines;
    None for a figure the text does not hold."""
    nodes = [
        _Node(len(match.group("indent")), float(match.group("cost")), int(match.group("rows")))
        for line in lines
        if (match := _NODE.match(line))
    ]
    if not nodes:
        return PlanEstimate(cost=None, rows=None, limits=limits)
    # A node is a leaf when the next node is not indented deeper (its child would be).
    leaves = [
        node
        for node, following in zip(nodes, [*nodes[1:], None], strict=True)
        if following is None or following.depth <= node.depth
    ]
    return PlanEstimate(
        cost=nodes[0].cost, rows=max(leaf.rows for leaf in leaves), limits=limits
    )
