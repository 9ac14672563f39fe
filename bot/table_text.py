"""A result set's cells as text: the table preview in the terminal and in Slack (a
fixed-width grid, or the cells of Slack's table block), with the same text everywhere.

Numbers read the same everywhere: thousands separators on every count and amount (not on
ids and years), and one number of decimals per column — as many as its values need, at
most two, and always two for amounts — so 54.6 % does not print as 54.60, and $1,234.50
not as 1,234.5. Values below 1 keep four significant digits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

CELL_WIDTH = 40
# Amounts keep their cents: 1,234.50, not 1,234.5.
_MONEY = re.compile(r"revenue|amount|price|cost|spend|sales|value|usd|aov|gmv", re.IGNORECASE)


@dataclass(frozen=True)
class Cells:
    """A result set's cells as the text every table rendering shows: the header, each
    row's formatted values, and which columns hold numbers (right-aligned)."""

    header: list[str]
    rows: list[list[str]]
    numeric: list[bool]


def table_cells(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Cells:
    """Every cell formatted and cut at CELL_WIDTH, numbers in their column's format."""
    header = [_cut(str(name)) for name in columns]
    formats = [_number_format(str(c), [row[i] for row in rows]) for i, c in enumerate(columns)]
    cells = [[_cell(value, fmt) for value, fmt in zip(row, formats, strict=True)] for row in rows]
    numeric = [bool(rows) and all(_is_number(row[i]) for row in rows) for i in range(len(columns))]
    return Cells(header, cells, numeric)


def format_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Columns padded to their widest cell (cut at CELL_WIDTH); numbers right-aligned."""
    cells = table_cells(columns, rows)
    widths = [max(len(line[i]) for line in [cells.header, *cells.rows])
              for i in range(len(columns))]

    def line(values: Sequence[str]) -> str:
        padded = (
            value.rjust(width) if right else value.ljust(width)
            for value, width, right in zip(values, widths, cells.numeric, strict=True)
        )
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(cells.header), rule, *(line(row) for row in cells.rows)])


def _number_format(column: str, values: Sequence[Any]) -> str:
    """The format spec for a column's numbers: no separators for ids and years."""
    if column == "id" or column.endswith("_id") or column in ("year", "yr"):
        return ""
    fractions = [v for v in values if isinstance(v, float | Decimal) and abs(float(v)) >= 1]
    if not fractions:
        return ","
    if _MONEY.search(column):
        return ",.2f"
    return f",.{max(_decimals(v) for v in fractions)}f"


def _decimals(value: float | Decimal) -> int:
    """Decimals `value` needs, at most two."""
    text = f"{float(value):.2f}".rstrip("0")
    return len(text.split(".")[1])


def _cell(value: Any, number_format: str) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float | Decimal) and abs(float(value)) < 1 and value != 0:
        text = f"{value:.4g}"
    elif isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        text = format(value, number_format)
    else:
        text = " ".join(str(value).split())
    return _cut(text)


def _cut(text: str) -> str:
    return text if len(text) <= CELL_WIDTH else text[: CELL_WIDTH - 1] + "…"


def _is_number(value: Any) -> bool:
    return value is None or (
        isinstance(value, int | float | Decimal) and not isinstance(value, bool)
    )
