"""The one rule against CSV (formula) injection, for every CSV databot writes.

Excel, LibreOffice and Google Sheets read a cell that starts with `=`, `+`, `-`, `@`, a
tab or a carriage return as a formula, so a value from the data could run a command or
send other cells away when a person opens an export (OWASP, "CSV Injection"). Such a cell
is written with a leading `'`, which spreadsheets show as text and never evaluate. Numbers
are left alone, so -5 stays a number; NULL stays empty. The header row follows the same
rule, since a column alias is text the query's author chose.

The rule has two renderings of the same trigger list: `neutralise_cell` for writers in
Python (executor.warehouse.result_writers, which Redshift's export streams into),
`neutralising_select` for writers that are SQL statements (DuckDB's `COPY`, Redshift's
`UNLOAD`), where it runs in the database so that a large export keeps streaming.
result.csv and the full-result files go through these writers, so they are covered too.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from executor.warehouse.base import ResultColumn
from executor.warehouse.catalog import quote_identifier

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
TEXT_PREFIX = "'"
# The text type each dialect casts free-text values to (Redshift's plain VARCHAR would
# cut them at 256 bytes).
TEXT_TYPES = {"duckdb": "VARCHAR", "redshift": "VARCHAR(MAX)"}


def neutralise_cell(value: Any) -> Any:
    """`value` as a CSV writer should write it: numbers and None unchanged, anything else as
    text, with `'` in front when it starts with a formula character."""
    if value is None or (isinstance(value, int | float | Decimal) and not isinstance(value, bool)):
        return value
    text = value if isinstance(value, str) else str(value)
    return TEXT_PREFIX + text if text.startswith(FORMULA_TRIGGERS) else text


def neutralising_select(sql: str, columns: Sequence[ResultColumn], dialect: str) -> str:
    """`sql` wrapped in a SELECT that applies `neutralise_cell`'s rule to its free-text
    columns and to the column names (the header is cells too), keeping the column order
    and the row order (it only projects).

    The inner columns are renamed by position, so a result with two columns of the same
    name (`a.id, b.id`) still wraps.
    """
    text_type = TEXT_TYPES[dialect]
    triggers = ", ".join(f"CHR({ord(c)})" for c in FORMULA_TRIGGERS)
    prefix = "'" + TEXT_PREFIX.replace("'", "''") + "'"
    positions = [f"c{i}" for i in range(len(columns))]
    items = []
    for position, column in zip(positions, columns, strict=True):
        cell = f"q.{position}"
        if column.free_text:
            text = f"CAST({cell} AS {text_type})"
            cell = (
                f"CASE WHEN LEFT({text}, 1) IN ({triggers}) THEN {prefix} || {text} ELSE {text} END"
            )
        items.append(f"{cell} AS {quote_identifier(neutralise_cell(column.name))}")
    return f"SELECT {', '.join(items)} FROM ({sql}) AS q ({', '.join(positions)})"
