"""executor.charts.plan: the shaping rules, labels and partial periods, without drawing."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal

from executor.charts.plan import MAX_CATEGORIES, OTHER, axis_label, plan_chart
from executor.charts.spec import ChartSpec
from tests.unit.executor.charts.months import MONTHS


def test_checking_and_planning_never_load_matplotlib() -> None:
    # GIVEN a fresh interpreter WHEN the spec and the planner are imported
    code = (
        "import sys, executor.charts.spec, executor.charts.plan; "
        "print(any(name.split('.')[0] == 'matplotlib' for name in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                            text=True).stdout.strip()  # fmt: skip
    # THEN matplotlib stays out: only executor.charts.draw loads it
    assert loaded == "False"


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


def test_axis_labels_carry_units_from_column_suffixes() -> None:
    assert axis_label("duration_seconds") == "Duration (seconds)"
    assert axis_label("revenue_usd") == "Revenue (USD)"
    assert axis_label("signup_month") == "Signup month"


def test_whole_months_or_no_as_of_date_mark_nothing() -> None:
    # GIVEN the same months, with data through November's last day, or no as-of date
    whole = plan_chart(["month", "n"], MONTHS, ChartSpec("line", "month", "n"),
                       as_of=date(2026, 11, 30))  # fmt: skip
    unknown = plan_chart(["month", "n"], MONTHS, ChartSpec("line", "month", "n"))
    # THEN no bucket is called partial
    assert whole.partial_x is None and whole.subtitle == "Data as of 2026-11-30"
    assert unknown.partial_x is None and unknown.subtitle == ""
