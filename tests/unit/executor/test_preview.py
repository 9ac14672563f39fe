"""Which rows a table preview shows (executor/preview.py): the latest of a time series,
the top of a ranking, else the first; a partial last period labelled."""

from __future__ import annotations

from datetime import date
from typing import Any

from executor.preview import preview_table
from executor.warehouse.base import QueryResult


def _months(count: int) -> list[tuple[date, int]]:
    return [(date(2024 + (m // 12), m % 12 + 1, 1), m) for m in range(count)]


def _result(rows: list[Any], columns: list[str], total: int | None = None) -> QueryResult:
    return QueryResult(columns, rows, total_rows=len(rows) if total is None else total, elapsed_s=0)


def test_a_time_series_shows_its_latest_rows_in_time_order() -> None:
    # GIVEN 35 months, the last one (Nov 2026) ending in the data on the 20th
    result = _result(_months(35), ["month", "n"])
    # WHEN previewed in 20 rows
    table = preview_table(result, 20, as_of=date(2026, 11, 20))
    # THEN it holds the latest 20 months, oldest first, the partial one labelled
    assert table.caption() == "latest 20 of 35 months"
    assert table.rows[0] == ["2025-04-01", 15]
    assert table.rows[-1] == ["2026-11-01 (through the 20th)", 34]


def test_a_ranking_shows_its_top_rows() -> None:
    rows = [(f"item {i}", 100 - i) for i in range(30)]
    table = preview_table(_result(rows, ["item", "revenue"]), 20)
    assert table.caption() == "top 20 of 30 rows by revenue" and table.rows[0] == ["item 0", 100]


def test_a_result_cut_at_fetch_shows_its_first_rows() -> None:
    # GIVEN a time series of which only the first 30 of 500 rows were fetched
    result = _result(_months(30), ["month", "n"], total=500)
    # THEN its latest rows are not at hand: the preview says it shows the first ones
    table = preview_table(result, 20, as_of=date(2026, 11, 20))
    assert table.caption() == "first 20 of 500 rows" and table.rows[0][0] == "2024-01-01"
