"""What a chart is asked for: its kind and columns. Standard library only, so the verified
library can check its entries' charts without loading pandas or matplotlib."""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("bar", "barh", "line", "area", "scatter", "pie", "histogram")


@dataclass(frozen=True)
class ChartSpec:
    kind: str
    x: str
    # The numeric column to plot; a histogram bins `x` and takes no y.
    y: str | None
    series: str | None = None
    title: str = ""
    x_label: str | None = None
    y_label: str | None = None
