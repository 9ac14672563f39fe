"""Charts: a query result plus a small spec in, a PNG readable at Slack's preview size out.

`plan_chart` checks the spec against the result and shapes the data (ordering, top-N plus
"Other", the kind actually drawn, notes for the reader); `draw_chart` renders a plan;
`render_chart` does both. Given the data's as-of date, a chart says it under the title, and
a time series' last bucket that the data does not fully cover is drawn apart (a dashed last
segment, a hatched bar) and named in a note. Only the worker imports this module: bot/
never loads matplotlib.
"""

from __future__ import annotations

import numbers
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless; must precede any pyplot import anywhere in the process

import numpy as np
import pandas as pd
from matplotlib import dates as mdates
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

# Defined apart so the verified library can check chart specs without matplotlib.
from executor.chart_spec import KINDS, ChartSpec
from executor.verified.periods import partial_bucket

WIDTH_PX, HEIGHT_PX, DPI = 1200, 700, 100
# Tableau 10: distinguishable, colour-blind friendly; grey is kept for "Other".
PALETTE = (
    "#4E79A7", "#F28E2B", "#59A14F", "#E15759", "#76B7B2",
    "#EDC948", "#B07AA1", "#FF9DA7", "#9C755F",
)  # fmt: skip
OTHER_COLOUR = "#BAB0AC"
OTHER = "Other"
MISSING = "(none)"
MAX_CATEGORIES = 15  # bars beyond this become top 14 + Other
MAX_SERIES = 8
MAX_PIE_PARTS = 6  # a pie with more parts is drawn as horizontal bars
MAX_TIME_BARS = 60  # more dated bars than this read better as a line
LABEL_CHARS = 28
# Names that say a value is a ratio or an average: summing them into "Other" would lie.
NON_ADDITIVE = ("avg", "average", "mean", "median", "rate", "ratio", "pct", "percent", "share")
UNIT_SUFFIXES = {
    "_seconds": "seconds", "_secs": "seconds", "_s": "s", "_ms": "ms", "_minutes": "minutes",
    "_hours": "hours", "_days": "days", "_usd": "USD", "_eur": "EUR", "_pct": "%",
    "_percent": "%", "_mb": "MB", "_gb": "GB",
}  # fmt: skip

# matplotlib's text layout and font cache are not thread-safe; the worker runs jobs on threads.
_RENDER_LOCK = threading.Lock()


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


def render_chart(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    spec: ChartSpec,
    path: Path,
    *,
    as_of: date | None = None,
) -> Path:
    """Render `spec` over a query result to a PNG at `path`; ChartError if the spec is bad."""
    return draw_chart(plan_chart(columns, rows, spec, as_of=as_of), path)


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


def draw_chart(plan: ChartPlan, path: Path) -> Path:
    """Draw a plan to a WIDTH_PX × HEIGHT_PX PNG at `path` and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with _RENDER_LOCK:
        # Figure without pyplot: no global state, freed as soon as it goes out of scope.
        fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, layout="constrained")
        ax = fig.add_subplot()
        _style(fig, ax, plan)
        _DRAWERS[plan.kind](ax, plan)
        fig.savefig(path, format="png", dpi=DPI)
    return path


def format_number(value: float) -> str:
    """1234567 -> '1,234,567'; beyond ten million, '12.3M'; small values keep two digits."""
    magnitude = abs(value)
    if magnitude >= 10_000_000:
        for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M")):
            if magnitude >= size:
                return f"{value / size:,.1f}".removesuffix(".0") + suffix
    if magnitude >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    if magnitude >= 1:
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:.2g}"


def date_labels(values: Iterable[Any]) -> list[str]:
    """Short labels for dated categories, in a format chosen by their span and grain."""
    stamps = pd.DatetimeIndex(pd.to_datetime(list(values)))
    span = stamps.max() - stamps.min()
    if (stamps != stamps.normalize()).any():
        fmt = "%H:%M" if span <= pd.Timedelta(days=1) else "%b %d %H:%M"
    elif ((stamps.month == 1) & (stamps.day == 1)).all() and len(stamps) > 1:
        fmt = "%Y"
    elif (stamps.day == 1).all():
        fmt = "%b %Y"
    else:
        fmt = "%Y-%m-%d" if span > pd.Timedelta(days=365) else "%b %d"
    return [stamp.strftime(fmt) for stamp in stamps]


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


# --- drawing ---------------------------------------------------------------------------


def _style(fig: Figure, ax: Axes, plan: ChartPlan) -> None:
    fig.set_facecolor("white")
    fig.suptitle(_shorten(plan.title, 90), x=0.01, ha="left", fontsize=20, fontweight="bold")
    if plan.subtitle:
        ax.set_title(plan.subtitle, loc="left", fontsize=12, color="#555555")
    ax.tick_params(labelsize=13)
    ax.xaxis.label.set_fontsize(15)
    ax.yaxis.label.set_fontsize(15)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_axisbelow(True)


def _colour(name: Any, position: int) -> str:
    return OTHER_COLOUR if name == OTHER else PALETTE[position % len(PALETTE)]


def _numbers(axis: Any) -> None:
    axis.set_major_formatter(FuncFormatter(lambda value, _pos: format_number(value)))


def _category_labels(plan: ChartPlan) -> list[str]:
    if plan.x_type == "time":
        return date_labels(plan.data.index)
    if plan.x_type == "number":
        return [format_number(v) for v in plan.data.index]
    return [_shorten(str(v), LABEL_CHARS) for v in plan.data.index]


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _legend(ax: Axes, plan: ChartPlan) -> None:
    if plan.series_label is not None:
        ax.legend(
            title=axis_label(plan.series_label),
            fontsize=12,
            title_fontsize=13,
            frameon=False,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
        )


def _draw_bars(ax: Axes, plan: ChartPlan) -> None:
    horizontal = plan.kind == "barh"
    wide = plan.data
    positions = np.arange(len(wide))
    width = 0.8 / wide.shape[1]
    for i, name in enumerate(wide.columns):
        offset = (i - (wide.shape[1] - 1) / 2) * width
        values = wide[name].fillna(0).to_numpy()
        colours = [_colour(label, i) for label in wide.index] if wide.shape[1] == 1 else None
        draw = ax.barh if horizontal else ax.bar
        bars = draw(
            positions + offset, values, width, label=str(name), color=colours or _colour(name, i)
        )
        if plan.partial_x is not None:
            # Lighter and hatched: the data does not cover this bucket yet.
            bars[-1].set_alpha(0.45)
            bars[-1].set_hatch("//")
        if wide.shape[1] == 1 and len(wide) <= MAX_CATEGORIES:
            ax.bar_label(bars, labels=[format_number(v) for v in values], padding=3, fontsize=11)
    labels = _category_labels(plan)
    if horizontal:
        ax.set_yticks(positions, labels)
        ax.invert_yaxis()  # first row on top, as in the table
        ax.set_xlabel(plan.y_label)
        ax.set_ylabel(plan.x_label)
        _numbers(ax.xaxis)
        ax.grid(axis="x", color="#e5e5e5")
    else:
        rotate = len(wide) > 6 or max(len(label) for label in labels) > 10
        ax.set_xticks(
            positions, labels, rotation=30 if rotate else 0, ha="right" if rotate else "center"
        )
        ax.set_xlabel(plan.x_label)
        ax.set_ylabel(plan.y_label)
        _numbers(ax.yaxis)
        ax.grid(axis="y", color="#e5e5e5")
    _legend(ax, plan)


def _x_positions(ax: Axes, plan: ChartPlan) -> Any:
    """Values for the x axis of a line or area chart; text categories become evenly spaced."""
    index = plan.data.index
    if plan.x_type == "time":
        locator = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        return pd.DatetimeIndex(index).to_numpy()
    if plan.x_type == "number":
        _numbers(ax.xaxis)
        return index.to_numpy(dtype=float)
    positions = np.arange(len(index))
    step = max(1, len(index) // 12)  # at most a dozen labels
    ticks = positions[::step]
    labels = [_shorten(str(index[i]), LABEL_CHARS) for i in ticks]
    rotate = len(ticks) > 6
    ax.set_xticks(ticks, labels, rotation=30 if rotate else 0, ha="right" if rotate else "center")
    return positions


def _draw_lines(ax: Axes, plan: ChartPlan) -> None:
    x = _x_positions(ax, plan)
    wide = plan.data
    marker = "o" if len(wide) <= 40 else None
    if plan.kind == "area" and wide.shape[1] > 1:
        colours = [_colour(name, i) for i, name in enumerate(wide.columns)]
        labels = [str(name) for name in wide.columns]
        ax.stackplot(x, wide.fillna(0).to_numpy().T, labels=labels, colors=colours, alpha=0.85)
    else:
        for i, name in enumerate(wide.columns):
            values = wide[name].to_numpy(dtype=float)
            whole = len(values) - 1 if plan.partial_x is not None else len(values)
            ax.plot(
                x[:whole], values[:whole], label=str(name), color=_colour(name, i),
                linewidth=2.5, marker=marker,
            )  # fmt: skip
            if whole < len(values):
                # Dashed, to a hollow point: the last bucket is not over yet.
                tail = slice(max(whole - 1, 0), None)
                colour = _colour(name, i)
                ax.plot(x[tail], values[tail], color=colour, linewidth=2.5, linestyle="--")
                ax.plot(
                    x[-1:], values[-1:], color=colour, linestyle="none", marker="o",
                    markersize=9, markerfacecolor="white", markeredgewidth=2.5,
                )  # fmt: skip
            if plan.kind == "area":
                ax.fill_between(x, values, alpha=0.25, color=_colour(name, i))
    if plan.kind == "area" or (wide.to_numpy(dtype=float) >= 0).all():
        ax.set_ylim(bottom=0)
    ax.set_xlabel(plan.x_label)
    ax.set_ylabel(plan.y_label)
    _numbers(ax.yaxis)
    ax.grid(axis="y", color="#e5e5e5")
    _legend(ax, plan)


def _groups(data: pd.DataFrame) -> Iterator[tuple[Any, pd.DataFrame]]:
    """Long data by its "series" column, in order of appearance; one unnamed group without."""
    if "series" not in data:
        yield None, data
        return
    yield from data.groupby("series", sort=False)


def _draw_scatter(ax: Axes, plan: ChartPlan) -> None:
    data = plan.data
    size, alpha = (12, 0.45) if len(data) > 1000 else (40, 0.8)
    for i, (name, group) in enumerate(_groups(data)):
        ax.scatter(
            group["x"], group["y"], s=size, alpha=alpha, color=_colour(name, i),
            label=None if name is None else str(name), edgecolors="none",
        )  # fmt: skip
    if plan.x_type == "time":
        locator = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    else:
        _numbers(ax.xaxis)
    _numbers(ax.yaxis)
    ax.set_xlabel(plan.x_label)
    ax.set_ylabel(plan.y_label)
    ax.grid(color="#e5e5e5")
    _legend(ax, plan)


def _draw_histogram(ax: Axes, plan: ChartPlan) -> None:
    values = plan.data["x"].to_numpy(dtype=float)
    low, high = float(values.min()), float(values.max())
    if low.is_integer() and high.is_integer() and high - low <= 60:
        bins: Any = np.arange(low, high + 2) - 0.5  # one bar per whole number
    else:
        edges = np.histogram_bin_edges(values, bins="auto")
        bins = edges if len(edges) <= 51 else 50
    for i, (name, group) in enumerate(_groups(plan.data)):
        ax.hist(
            group["x"].to_numpy(dtype=float), bins=bins, color=_colour(name, i),
            alpha=0.6 if name is not None else 0.9, label=None if name is None else str(name),
            edgecolor="white", linewidth=0.5,
        )  # fmt: skip
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    _numbers(ax.xaxis)
    _numbers(ax.yaxis)
    ax.set_xlabel(plan.x_label)
    ax.set_ylabel(plan.y_label)
    ax.grid(axis="y", color="#e5e5e5")
    _legend(ax, plan)


def _draw_pie(ax: Axes, plan: ChartPlan) -> None:
    values = plan.data.iloc[:, 0].fillna(0).to_numpy()
    labels = _category_labels(plan)
    total = values.sum()
    ax.pie(
        values,
        labels=[f"{label}\n{format_number(v)}" for label, v in zip(labels, values, strict=True)],
        colors=[_colour(label, i) for i, label in enumerate(plan.data.index)],
        autopct=lambda pct: f"{pct:.0f}%" if pct >= 3 else "",
        startangle=90,
        counterclock=False,
        textprops={"fontsize": 13},
        wedgeprops={"edgecolor": "white", "linewidth": 1.5},
    )
    ax.set_aspect("equal")
    ax.set_xlabel(f"{plan.y_label}: {format_number(total)} in all")


_DRAWERS = {
    "bar": _draw_bars,
    "barh": _draw_bars,
    "line": _draw_lines,
    "area": _draw_lines,
    "scatter": _draw_scatter,
    "histogram": _draw_histogram,
    "pie": _draw_pie,
}
