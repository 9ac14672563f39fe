"""Drawing a chart: a ChartPlan in, a PNG readable at Slack's preview size out.

The data's as-of date goes under the title; a partial last bucket is drawn apart (a dashed
last segment, a hatched bar). The only module that imports matplotlib: import it where a
chart is drawn, never on a path that only checks or plans one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
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

from executor.charts.plan import MAX_CATEGORIES, OTHER, ChartPlan, axis_label, plan_chart
from executor.charts.spec import ChartSpec

WIDTH_PX, HEIGHT_PX, DPI = 1200, 700, 100
# Tableau 10: distinguishable, colour-blind friendly; grey is kept for "Other".
PALETTE = (
    "#4E79A7", "#F28E2B", "#59A14F", "#E15759", "#76B7B2",
    "#EDC948", "#B07AA1", "#FF9DA7", "#9C755F",
)  # fmt: skip
OTHER_COLOUR = "#BAB0AC"
LABEL_CHARS = 28

# matplotlib's text layout and font cache are not thread-safe; the worker runs jobs on threads.
_RENDER_LOCK = threading.Lock()


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
