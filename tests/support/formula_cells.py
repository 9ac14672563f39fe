"""Cells a spreadsheet would run as formulas (OWASP's CSV injection cases), as one query
both DuckDB and PostgreSQL run, and what every CSV databot writes must hold instead."""

from __future__ import annotations

import csv
from pathlib import Path

# (value of a text column, what the CSV cell must read back as)
TEXT_CELLS: list[tuple[str | None, str]] = [
    ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
    ("+1", "'+1"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("-5", "'-5"),  # a number held as text is still text
    ('=HYPERLINK("http://x", "ünïcødé")', '\'=HYPERLINK("http://x", "ünïcødé")'),
    (None, ""),
    ("naïve ✓ 東京", "naïve ✓ 東京"),
    ("a=b-c", "a=b-c"),
    ("'quoted", "'quoted"),
]
# A numeric column beside it: negative numbers stay numbers.
AMOUNTS: list[int | None] = [-5, 1, -2, 0, -1, 3, 5, None, 7, -8, 9, 10]
# The numeric column's name starts with a formula character too: headers are cells.
AMOUNT_HEADER = "-amount"
EXPECTED_HEADER = ["id", "cell", "'-amount"]


def _literal(value: str | int | None) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("'", "''") + "'"


def formula_cells_sql() -> str:
    """One SELECT (no tables) returning id, cell (text) and "-amount" (integer)."""
    rows = ", ".join(
        f"({i}, {_literal(cell)}, {_literal(amount)})"
        for i, ((cell, _), amount) in enumerate(zip(TEXT_CELLS, AMOUNTS, strict=True), start=1)
    )
    return f'SELECT * FROM (VALUES {rows}) AS t(id, cell, "{AMOUNT_HEADER}") ORDER BY id'


def expected_rows() -> list[list[str]]:
    return [
        [str(i), expected, "" if amount is None else str(amount)]
        for i, ((_, expected), amount) in enumerate(zip(TEXT_CELLS, AMOUNTS, strict=True), start=1)
    ]


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    """The header and rows of a CSV file, read as a spreadsheet import would split them."""
    with path.open(encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    return header, rows
