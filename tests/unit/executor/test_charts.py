"""executor.charts: every kind rendered from the sample data, the shaping rules, the errors."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bench.charts import CASES
from executor.charts import (
    HEIGHT_PX,
    KINDS,
    MAX_CATEGORIES,
    OTHER,
    WIDTH_PX,
    ChartError,
    ChartSpec,
    axis_label,
    date_labels,
    format_number,
    plan_chart,
    render_chart,
)
from executor.tools.run_sql import KEEP_ROWS
from executor.warehouse.base import Warehouse


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_kind_renders_a_slack_sized_png_from_the_sample_data(
    case: str, sample_warehouse: Warehouse, tmp_path: Path
) -> None:
    # GIVEN a real result from the sample warehouse (the cases the benchmark times)
    sql, spec = CASES[case]
    result = sample_warehouse.query(sql, max_rows=KEEP_ROWS)
    # WHEN it is rendered
    path = render_chart(result.columns, result.rows, spec, tmp_path / "chart.png")
    # THEN the file is a PNG of the fixed size with a real drawing on it
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size == (WIDTH_PX, HEIGHT_PX)
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000) or []
    assert len(colours) > 50, "a chart has text, axes and marks, not a blank canvas"


def test_the_sample_cases_cover_every_kind() -> None:
    assert {spec.kind for _, spec in CASES.values()} == set(KINDS)


def test_renders_safely_from_several_threads(tmp_path: Path) -> None:
    spec = ChartSpec("bar", "k", "v")
    rows = [(f"k{i}", i) for i in range(8)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        paths = list(
            pool.map(
                lambda n: render_chart(["k", "v"], rows, spec, tmp_path / f"{n}.png"), range(8)
            )
        )
    for path in paths:
        with Image.open(path) as image:
            assert image.size == (WIDTH_PX, HEIGHT_PX)


# --- shaping -------------------------------------------------------------------------


def test_many_categories_keep_the_largest_and_sum_the_rest_as_other() -> None:
    rows = [(f"city {i}", i + 1) for i in range(40)]
    plan = plan_chart(["city", "users"], rows, ChartSpec("bar", "city", "users"))
    values = plan.data["users"]
    assert len(values) == MAX_CATEGORIES
    assert values.index[-1] == OTHER
    assert values.sum() == sum(v for _, v in rows), "nothing lost: Other holds the remainder"
    assert "city 39" in values.index and "city 0" not in values.index
    assert plan.notes == ["top 14 of 40 categories; the other 26 as Other"]


def test_averages_are_never_summed_into_other() -> None:
    rows = [(f"city {i}", float(i)) for i in range(40)]
    plan = plan_chart(["city", "avg_age"], rows, ChartSpec("barh", "city", "avg_age"))
    assert OTHER not in plan.data.index
    assert len(plan.data) == MAX_CATEGORIES - 1
    assert plan.notes == ["top 14 of 40 categories"]


def test_text_categories_keep_the_query_order_and_dates_are_sorted() -> None:
    text = plan_chart(["k", "v"], [("b", 1), ("c", 3), ("a", 2)], ChartSpec("bar", "k", "v"))
    assert list(text.data.index) == ["b", "c", "a"]
    rows = [(date(2024, 3, 1), 1), (date(2024, 1, 1), 2), (date(2024, 2, 1), 3)]
    dated = plan_chart(["month", "v"], rows, ChartSpec("line", "month", "v"))
    assert [d.month for d in dated.data.index] == [1, 2, 3]
    assert dated.x_type == "time"


def test_a_pie_with_many_parts_is_drawn_as_bars_and_says_so() -> None:
    rows = [(f"part {i}", 10) for i in range(9)]
    plan = plan_chart(["part", "n"], rows, ChartSpec("pie", "part", "n"))
    assert plan.kind == "barh"
    assert "9 parts are too many for a pie; drawn as bars" in plan.notes


def test_hundreds_of_dated_bars_become_a_line() -> None:
    start = date(2024, 1, 1).toordinal()
    rows = [(date.fromordinal(start + i), i) for i in range(200)]
    plan = plan_chart(["day", "n"], rows, ChartSpec("bar", "day", "n"))
    assert plan.kind == "line"


def test_repeated_x_values_are_combined_and_missing_values_left_out() -> None:
    rows = [("a", 1), ("a", 2), ("b", None), ("b", 5), (None, 4)]
    plan = plan_chart(["k", "n"], rows, ChartSpec("bar", "k", "n"))
    assert plan.data["n"].to_dict() == {"a": 3.0, "b": 5.0, "(none)": 4.0}
    assert "1 row without n left out" in plan.notes
    assert "rows with the same k summed" in plan.notes


def test_series_beyond_the_limit_fold_into_other() -> None:
    rows = [(m, f"s{s}", s + 1) for m in (1, 2) for s in range(12)]
    plan = plan_chart(["m", "s", "n"], rows, ChartSpec("line", "m", "n", series="s"))
    assert list(plan.data.columns)[-1] == OTHER
    assert plan.data.shape[1] == 8
    assert plan.data.to_numpy().sum() == sum(r[2] for r in rows)


def test_decimals_and_timestamps_from_a_warehouse_are_understood() -> None:
    rows = [(datetime(2024, 1, 1, 10), Decimal("12.50")), (datetime(2024, 1, 2, 9), Decimal("3"))]
    plan = plan_chart(["at", "revenue"], rows, ChartSpec("area", "at", "revenue"))
    assert plan.x_type == "time"
    assert plan.data["revenue"].tolist() == [12.5, 3.0]


def test_titles_and_labels_default_from_column_names() -> None:
    plan = plan_chart(["signup_month", "n"], [("x", 1)], ChartSpec("bar", "signup_month", "n"))
    assert (plan.title, plan.x_label, plan.y_label) == ("N by signup month", "Signup month", "N")
    spec = ChartSpec("bar", "k", "v", title="T", x_label="X", y_label="Y (USD)")
    plan = plan_chart(["k", "v"], [("x", 1)], spec)
    assert (plan.title, plan.x_label, plan.y_label) == ("T", "X", "Y (USD)")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (999, "999"),
        (1234567, "1,234,567"),
        (12_345_678, "12.3M"),
        (2_000_000_000, "2B"),
        (3.14159, "3.14"),
        (2.5, "2.5"),
        (0.0123, "0.012"),
        (-4500, "-4,500"),
    ],
)
def test_format_number(value: float, text: str) -> None:
    assert format_number(value) == text


@pytest.mark.parametrize(
    ("values", "labels"),
    [
        ([date(2024, 1, 1), date(2025, 1, 1)], ["2024", "2025"]),
        ([date(2024, 1, 1), date(2024, 2, 1)], ["Jan 2024", "Feb 2024"]),
        ([date(2024, 3, 4), date(2024, 3, 11)], ["Mar 04", "Mar 11"]),
        ([date(2023, 3, 4), date(2024, 6, 11)], ["2023-03-04", "2024-06-11"]),
        ([datetime(2024, 3, 4, 9), datetime(2024, 3, 4, 13, 30)], ["09:00", "13:30"]),
    ],
)
def test_date_labels_follow_span_and_grain(values: list[Any], labels: list[str]) -> None:
    assert date_labels(values) == labels


def test_axis_labels_carry_units_from_column_suffixes() -> None:
    assert axis_label("duration_seconds") == "Duration (seconds)"
    assert axis_label("revenue_usd") == "Revenue (USD)"
    assert axis_label("signup_month") == "Signup month"


# --- errors the model can act on -----------------------------------------------------


@pytest.mark.parametrize(
    ("columns", "rows", "spec", "reason"),
    [
        (["k", "v"], [("a", 1)], ChartSpec("donut", "k", "v"), "unknown chart kind 'donut'"),
        (["k", "v"], [], ChartSpec("bar", "k", "v"), "the query returned no rows"),
        (["k", "v"], [("a", 1)], ChartSpec("bar", "nope", "v"), "columns are: k, v"),
        (["k", "v"], [("a", 1)], ChartSpec("bar", "k", None), "needs y"),
        (["k", "v"], [("a", "b")], ChartSpec("bar", "k", "v"), "'v' holds text, but the y axis"),
        (["k", "v"], [("a", None)], ChartSpec("bar", "k", "v"), "'v' has no values to plot"),
        (["k", "v"], [("a", 1)], ChartSpec("histogram", "v", "k"), "leave y out"),
        (["k", "v"], [("a", 1)], ChartSpec("histogram", "k", None), "a histogram needs numbers"),
        (["k", "v"], [("a", 1)], ChartSpec("scatter", "k", "v"), "needs numbers or dates on x"),
        (["k", "v"], [("a", 1)], ChartSpec("bar", "k", "v", series="k"), "a third column"),
        (["k", "s", "v"], [("a", "s", 1)], ChartSpec("pie", "k", "v", series="s"), "one series"),
        (["k", "v"], [("a", 1), ("b", -2)], ChartSpec("pie", "k", "v"), "negative"),
    ],
)
def test_bad_specs_raise_chart_error_with_the_reason(
    columns: list[str], rows: list[tuple[Any, ...]], spec: ChartSpec, reason: str, tmp_path: Path
) -> None:
    with pytest.raises(ChartError, match=reason.replace("(", r"\(")):
        render_chart(columns, rows, spec, tmp_path / "chart.png")
    assert not (tmp_path / "chart.png").exists()


MONTHS = [(date(2026, m, 1), 100 + m) for m in range(6, 12)]  # Jun..Nov 2026


@pytest.mark.parametrize("kind", ["line", "bar"])
def test_a_partial_last_month_is_marked_and_the_as_of_date_is_the_subtitle(
    kind: str, tmp_path: Path
) -> None:
    # GIVEN monthly values whose data ends on 2026-11-20
    spec = ChartSpec(kind, "month", "signups")
    # WHEN planned and drawn with the as-of date
    plan = plan_chart(["month", "signups"], MONTHS, spec, as_of=date(2026, 11, 20))
    path = render_chart(["month", "signups"], MONTHS, spec, tmp_path / "c.png",
                        as_of=date(2026, 11, 20))  # fmt: skip
    # THEN November is drawn apart and named, under a subtitle with the as-of date
    assert plan.partial_x == plan.data.index[-1] and plan.data.index[-1].month == 11
    assert plan.subtitle == "Data as of 2026-11-20; Nov 2026 is partial (through the 20th)"
    with Image.open(path) as image:
        assert image.size == (WIDTH_PX, HEIGHT_PX)


def test_whole_months_or_no_as_of_date_mark_nothing() -> None:
    # GIVEN the same months, with data through November's last day, or no as-of date
    whole = plan_chart(["month", "n"], MONTHS, ChartSpec("line", "month", "n"),
                       as_of=date(2026, 11, 30))  # fmt: skip
    unknown = plan_chart(["month", "n"], MONTHS, ChartSpec("line", "month", "n"))
    # THEN no bucket is called partial
    assert whole.partial_x is None and whole.subtitle == "Data as of 2026-11-30"
    assert unknown.partial_x is None and unknown.subtitle == ""
