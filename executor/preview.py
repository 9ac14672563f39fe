"""Which rows of a result an answer's table preview shows, and what it calls them.

A preview holds at most a few rows, so it picks the ones a reader wants: the most recent
rows of a time series ("latest 20 of 35 months"), the top of a ranking ("top 20 of 120
rows by revenue"), otherwise the first rows. A time series' last bucket is labelled when
the data does not cover all of it ("2026-11-01 (through the 20th)"). The whole result is
always in the CSV; the preview only chooses and labels.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from bot.answer import Table
from executor.jsonable import jsonable
from executor.verified.periods import Partial, Unit, partial_bucket, series_unit
from executor.warehouse.base import QueryResult


def preview_table(
    result: QueryResult, rows: int, *, as_of: date | None = None, unit: Unit | None = None
) -> Table:
    """At most `rows` rows of `result`, as JSON values, chosen and labelled as above;
    `unit` is the time series' unit when the query says it (DATE_TRUNC('month', ...))."""
    table = Table(columns=list(result.columns), rows=[], total_rows=result.total_rows)
    series = series_column(result, unit)
    # Only a result held whole has its latest rows at hand; a cut one shows its first.
    if series is not None and not result.truncated:
        found = series_unit([row[series] for row in result.rows], unit)
        table.selection, table.unit = "latest", f"{found}s"
        chosen = result.rows[-rows:]
    else:
        ranked_by = ranking_column(result)
        if ranked_by is not None:
            table.selection, table.ranked_by = "top", ranked_by
        chosen = result.rows[:rows]
    table.rows = [jsonable(list(row)) for row in chosen]
    # A partial bucket is the result's last row: labelled when the preview holds that row.
    partial = partial_period(result, as_of, unit)
    holds_last = bool(chosen) and chosen[-1] is result.rows[-1]
    if partial is not None and series is not None and holds_last:
        table.rows[-1][series] = partial.label
    return table


def series_column(result: QueryResult, unit: Unit | None = None) -> int | None:
    """The first column holding calendar buckets (of `unit`, if given) in ascending order."""
    for index in range(len(result.columns)):
        if series_unit([row[index] for row in result.rows], unit) is not None:
            return index
    return None


def partial_period(
    result: QueryResult, as_of: date | None, unit: Unit | None = None
) -> Partial | None:
    """The result's last bucket when it is a time series the data does not fully cover."""
    index = series_column(result, unit)
    if index is None or result.truncated:
        return None
    return partial_bucket([row[index] for row in result.rows], as_of, unit)


def ranking_column(result: QueryResult) -> str | None:
    """The first numeric column the rows are sorted on, largest first, if any."""
    for index, name in enumerate(result.columns):
        values = [row[index] for row in result.rows]
        if _descending(values):
            return name
    return None


def _descending(values: Sequence[Any]) -> bool:
    numeric = all(isinstance(v, int | float | Decimal) and not isinstance(v, bool) for v in values)
    if not numeric or len(values) < 2:
        return False
    pairs = list(itertools.pairwise(values))
    return all(a >= b for a, b in pairs) and any(a > b for a, b in pairs)
