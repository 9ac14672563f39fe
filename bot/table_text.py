"""A result set as fixed-width text: the table preview in the terminal and in Slack."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

CELL_WIDTH = 40


def format_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Columns padded to their widest cell (cut at CELL_WIDTH); numbers right-aligned."""
    header = [_cut(str(name)) for name in columns]
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max(len(line[i]) for line in [header, *cells]) for i in range(len(columns))]
    numeric = [bool(rows) and all(_is_number(row[i]) for row in rows) for i in range(len(columns))]

    def line(values: Sequence[str]) -> str:
        padded = (
            value.rjust(width) if right else value.ljust(width)
            for value, width, right in zip(values, widths, numeric, strict=True)
        )
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(row) for row in cells)])


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float | Decimal):
        text = f"{value:,.2f}" if abs(float(value)) >= 1 else f"{value:.4g}"
    else:
        text = " ".join(str(value).split())
    return _cut(text)


def _cut(text: str) -> str:
    return text if len(text) <= CELL_WIDTH else text[: CELL_WIDTH - 1] + "…"


def _is_number(value: Any) -> bool:
    return value is None or (
        isinstance(value, int | float | Decimal) and not isinstance(value, bool)
    )
