"""Planning a chart: check a spec against a query result and shape the data for drawing.

`plan_chart` checks every named column and the kind's needs (ChartError says what is wrong,
in words the model can act on), then orders the data, keeps the top N plus "Other", picks
the kind actually drawn (a pie with too many parts becomes bars, hundreds of dated bars a
line) and writes notes for the reader. Given the data's as-of date, it marks a time
series' last bucket that the data does not fully cover. pandas only: no matplotlib.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from executor.charts.spec import KINDS, ChartSpec
from executor.verified.periods import partial_bucket

OTHER = "Other"
MISSING = "(none)"
MAX_CATEGORIES = 15  # bars beyond this become top 14 + Other
MAX_SERIES = 8
MAX_PIE_PARTS = 6  # a pie with more parts is drawn as horizontal bars
MAX_TIME_BARS = 60  # more dated bars than this read better as a line
# Names that say a value is a ratio or an average: summing them into "Other" would lie.
NON_ADDITIVE = ("avg", "average", "mean", "median", "rate", "ratio", "pct", "percent", "share")
UNIT_SUFFIXES = {
    "_seconds": "seconds", "_secs": "seconds", "_s": "s", "_ms": "ms", "_minutes": "minutes",
    "_hours": "hours", "_days": "days", "_usd": "USD", "_eur": "EUR", "_pct": "%",
    "_percent": "%", "_mb": "MB", "_gb": "GB",
}  # fmt: skip


class ChartError(ValueError):
    """The spec does not fit the result; the message says why, in words the model can act on."""


@dataclass
class ChartPlan:
    """A checked spec with its data shaped for drawing.

    `data` is wide (index = x in drawing order, one column per series) for bar, barh, line,
    area and pie; long (columns x, y and "series" when grouped) for scatter and histogram.
    """

    kind: str
    title: str
    x_label: str
    y_label: str
    x_type: str  # "number", "time" or "text"
    data: pd.DataFrame
    series_label: str | None = None
    notes: list[str] = field(default_factory=list)
    # The latest date in the data, shown under the title.
    as_of: date | None = None
    # The x value of a last bucket the data does not fully cover, drawn apart.
    partial_x: Any = None

    @property
    def subtitle(self) -> str:
        parts = [f"data as of {self.as_of.isoformat()}"] if self.as_of else []
        text = "; ".join([*parts, *self.notes])
        return text[:1].upper() + text[1:]


def plan_chart(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    spec: ChartSpec,
    *,
    as_of: date | None = None,
) -> ChartPlan:
    if spec.kind not in KINDS:
        raise ChartError(f"unknown chart kind {spec.kind!r}; choose one of {', '.join(KINDS)}")
    if not rows:
        raise ChartError("the query returned no rows, so there is nothing to chart")
    frame = pd.DataFrame([tuple(row) for row in rows], columns=list(columns), dtype=object)
    x_type = _check_axes(frame, spec)
    notes: list[str] = []
    data = _long_rows(frame, spec, x_type, notes)
    if data.empty:
        raise ChartError("no row has a value in every charted column, so there is nothing to chart")
    if spec.kind in ("scatter", "histogram"):
        plan = _plan_points(data, spec, x_type, notes)
    else:
        plan = _plan_grouped(data, spec, x_type, notes)
        _mark_partial(plan, as_of)
    plan.as_of = as_of
    return plan


def axis_label(column: str) -> str:
    """'duration_seconds' -> 'Duration (seconds)', 'signup_month' -> 'Signup month'."""
    name, unit = column.lower(), None
    for suffix, suffix_unit in UNIT_SUFFIXES.items():
        if name.endswith(suffix) and len(name) > len(suffix):
            name, unit = name.removesuffix(suffix), suffix_unit
            break
    words = name.replace("_", " ").strip()
    words = words[:1].upper() + words[1:]
    return f"{words} ({unit})" if unit else words


# --- checking --------------------------------------------------------------------------


def _check_axes(frame: pd.DataFrame, spec: ChartSpec) -> str:
    """Every named column exists and holds what its axis needs; returns x's value type."""
    x_type = _check_column(frame, spec.x, "x")
    if spec.kind == "histogram":
        if spec.y is not None:
            raise ChartError(
                "a histogram counts the values of one numeric column: give it as x and leave y out"
            )
        if x_type != "number":
            raise ChartError(
                f"column {spec.x!r} holds {_describe(frame[spec.x])}, but a histogram needs numbers"
            )
    else:
        if spec.y is None:
            raise ChartError(f"a {spec.kind} chart needs y: the numeric column to plot")
        if _check_column(frame, spec.y, "y") != "number":
            raise ChartError(
                f"column {spec.y!r} holds {_describe(frame[spec.y])}, "
                f"but the y axis of a {spec.kind} chart needs numbers"
            )
    if spec.kind == "scatter" and x_type == "text":
        raise ChartError(
            f"column {spec.x!r} holds text, but a scatter chart needs numbers or dates on x"
        )
    if spec.series is not None:
        _check_column(frame, spec.series, "series")
        if spec.series in (spec.x, spec.y):
            raise ChartError("series must be a third column, not the x or y column")
        if spec.kind == "pie":
            raise ChartError("a pie shows one series: drop series, or use a bar chart")
    return x_type


def _check_column(frame: pd.DataFrame, column: str, role: str) -> str:
    if column not in frame.columns:
        known = ", ".join(str(c) for c in frame.columns)
        raise ChartError(f"unknown column {column!r} for {role}; the query's columns are: {known}")
    kind = _value_type(frame[column])
    if kind == "empty":
        raise ChartError(f"column {column!r} has no values to plot (every row is null)")
    return kind


def _value_type(values: pd.Series) -> str:
    present = [v for v in values if not _is_null(v)]
    if not present:
        return "empty"
    if all(isinstance(v, numbers.Real | Decimal) and not isinstance(v, bool) for v in present):
        return "number"
    if all(isinstance(v, date | np.datetime64) for v in present):
        return "time"
    return "text"


def _describe(values: pd.Series) -> str:
    return {"text": "text", "time": "dates"}.get(_value_type(values), "numbers")


def _is_null(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT


def _is_additive(column: str) -> bool:
    words = column.lower().replace("-", "_").split("_")
    return not any(word in NON_ADDITIVE for word in words)


# --- shaping ---------------------------------------------------------------------------


def _labels(spec: ChartSpec, default_y: str) -> tuple[str, str, str]:
    y_name = axis_label(spec.y) if spec.y else default_y
    x_label = spec.x_label if spec.x_label is not None else axis_label(spec.x)
    y_label = spec.y_label if spec.y_label is not None else y_name
    title = spec.title or f"{y_name} by {axis_label(spec.x).lower()}"
    return title, x_label, y_label


def _as_float(values: pd.Series) -> pd.Series:
    return values.map(lambda v: np.nan if _is_null(v) else float(v)).astype(float)


def _as_axis(values: pd.Series, x_type: str) -> pd.Series:
    if x_type == "number":
        return _as_float(values)
    if x_type == "time":
        return pd.to_datetime(values.map(lambda v: None if _is_null(v) else v))
    return values.map(lambda v: MISSING if _is_null(v) else str(v))


def _drop_missing(frame: pd.DataFrame, column: str, name: str, notes: list[str]) -> pd.DataFrame:
    """Rows without a value for `column` (shown to the reader as `name`) cannot be drawn."""
    missing = int(frame[column].isna().sum())
    if missing:
        notes.append(f"{missing:,} {'row' if missing == 1 else 'rows'} without {name} left out")
    return frame[frame[column].notna()]


def _long_rows(frame: pd.DataFrame, spec: ChartSpec, x_type: str, notes: list[str]) -> pd.DataFrame:
    """Columns x, y (unless a histogram) and "series" (when grouped), as drawable values;
    rows missing x or y are left out."""
    data = pd.DataFrame({"x": _as_axis(frame[spec.x], x_type)})
    if spec.y is not None:
        data["y"] = _as_float(frame[spec.y])
        data = _drop_missing(data, "y", spec.y, notes)
    if spec.series is not None:
        data["series"] = _as_axis(frame[spec.series], "text")
    return _drop_missing(data, "x", spec.x, notes)


def _plan_points(data: pd.DataFrame, spec: ChartSpec, x_type: str, notes: list[str]) -> ChartPlan:
    """scatter and histogram: every row is a point (or counts once)."""
    if spec.series is not None:
        data = _top_groups(data, "series", MAX_SERIES, notes)
    title, x_label, y_label = _labels(spec, "Rows")
    if not spec.title:
        x_name = axis_label(spec.x).lower()
        title = (
            f"Distribution of {x_name}"
            if spec.y is None
            else f"{axis_label(spec.y)} against {x_name}"
        )
    return ChartPlan(spec.kind, title, x_label, y_label, x_type, data, spec.series, notes)


def _plan_grouped(data: pd.DataFrame, spec: ChartSpec, x_type: str, notes: list[str]) -> ChartPlan:
    """bar, barh, line, area, pie: one value per (x, series), x in drawing order."""
    assert spec.y is not None
    long = data if spec.series is not None else data.assign(series=spec.y)
    additive = _is_additive(spec.y)
    if long.duplicated(["x", "series"]).any():
        how = "summed" if additive else "averaged"
        notes.append(f"rows with the same {spec.x} {how}")
    wide = long.pivot_table(
        index="x", columns="series", values="y", aggfunc="sum" if additive else "mean", sort=False
    )
    wide = wide[list(dict.fromkeys(long["series"]))]  # series in order of appearance
    if x_type != "text":
        wide = wide.sort_index()
    kind = _drawn_kind(spec, x_type, len(wide), notes)
    if spec.series is not None:
        wide = _fold_smallest(wide.T, MAX_SERIES, additive, "series", notes).T
    if kind in ("bar", "barh", "pie") and x_type == "text":
        wide = _fold_smallest(wide, MAX_CATEGORIES, additive, "categories", notes)
    if kind == "pie" and (wide.iloc[:, 0] < 0).any():
        raise ChartError(f"a pie cannot show negative values of {spec.y}; use a bar chart")
    title, x_label, y_label = _labels(spec, "")
    return ChartPlan(kind, title, x_label, y_label, x_type, wide, spec.series, notes)


def _mark_partial(plan: ChartPlan, as_of: date | None) -> None:
    """Note and remember a time series' last bucket when the data stops inside it."""
    if plan.x_type != "time" or plan.kind not in ("bar", "line", "area"):
        return
    partial = partial_bucket(list(plan.data.index), as_of)
    if partial is not None:
        plan.partial_x = plan.data.index[-1]
        plan.notes.append(f"{partial.name} is partial ({partial.through})")


def _drawn_kind(spec: ChartSpec, x_type: str, parts: int, notes: list[str]) -> str:
    if spec.kind == "pie" and parts > MAX_PIE_PARTS:
        notes.append(f"{parts} parts are too many for a pie; drawn as bars")
        return "barh"
    bar_limit = {"bar": MAX_TIME_BARS, "barh": 2 * MAX_CATEGORIES}.get(spec.kind)
    if bar_limit is not None and x_type != "text" and parts > bar_limit:
        notes.append(f"{parts} points are too many for bars; drawn as a line")
        return "line"
    return spec.kind


def _fold_smallest(
    wide: pd.DataFrame, limit: int, additive: bool, noun: str, notes: list[str]
) -> pd.DataFrame:
    """Keep the limit - 1 largest rows (by absolute total) in their order; sum the rest into
    one "Other" row when the values add up, else leave them out. Says so in `notes`."""
    if len(wide) <= limit:
        return wide
    largest = wide.sum(axis=1).abs().sort_values(ascending=False).index[: limit - 1]
    kept = wide.index.isin(largest)
    top, rest = wide.loc[kept], wide.loc[~kept]
    if not additive:
        notes.append(f"top {len(top)} of {len(wide)} {noun}")
        return top
    notes.append(f"top {len(top)} of {len(wide)} {noun}; the other {len(rest)} as {OTHER}")
    return pd.concat([top, pd.DataFrame([rest.sum(axis=0)], index=[OTHER])])


def _top_groups(data: pd.DataFrame, column: str, limit: int, notes: list[str]) -> pd.DataFrame:
    """Scatter and histogram points: the most frequent groups keep their colour, the rest
    share the "Other" colour."""
    counts = data[column].value_counts()
    if len(counts) <= limit:
        return data
    keep = set(counts.index[: limit - 1])
    notes.append(f"top {limit - 1} of {len(counts)} groups; the rest as {OTHER}")
    data = data.copy()
    data.loc[~data[column].isin(keep), column] = OTHER
    return data
