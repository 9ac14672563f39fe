"""executor.charts.draw: every kind rendered from the sample data, number and date labels,
and the errors the model can act on (nothing is drawn for a bad spec)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bench.charts import CASES
from executor.charts.draw import HEIGHT_PX, WIDTH_PX, date_labels, format_number, render_chart
from executor.charts.plan import ChartError, plan_chart
from executor.charts.spec import KINDS, ChartSpec
from executor.row_limits import KEEP_ROWS
from executor.warehouse.base import Warehouse
from tests.unit.executor.charts.months import MONTHS


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
