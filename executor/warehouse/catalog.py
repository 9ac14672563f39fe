"""What both adapters do alike when they describe their tables: columns with sample
values for low-cardinality text columns and row counts, in SQL that DuckDB, PostgreSQL
and Redshift all accept.

Sample values are data anyone could have written: at most SAMPLE_VALUES of them, each
read no longer than SAMPLE_CHARS + 1 characters (the database cuts it, so a 400 KB value
never leaves it whole); describe_tables shows them on one line, as quoted JSON."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable
from typing import Any

from executor.warehouse.base import Column, TableInfo

# A text column with at most this many distinct values is a category worth listing.
LOW_CARDINALITY = 25
# How many of its values (the most frequent first) the schema shows.
SAMPLE_VALUES = 12
# How much of a sample value is shown (a longer one is cut and ends in '…').
SAMPLE_CHARS = 60

Fetch = Callable[[str], list[tuple[Any, ...]]]
_TEXT_TYPE = re.compile(r"char|text|string", re.IGNORECASE)


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def is_text_type(type_name: str) -> bool:
    return bool(_TEXT_TYPE.search(type_name))


def sample_values(fetch: Fetch, table: str, column: str) -> list[Any]:
    """The most frequent values of `column` if it has few distinct ones, else []; of a
    longer value, only its first SAMPLE_CHARS + 1 characters (so a cut can be seen).

    `table` is the already-quoted (and schema-qualified) table name. Values are grouped by
    their first SAMPLE_CHARS + 1 characters: enough to tell a category from free text.
    """
    col = quote_identifier(column)
    rows = fetch(
        f"SELECT SUBSTRING({col}, 1, {SAMPLE_CHARS + 1}) FROM {table} WHERE {col} IS NOT NULL "
        f"GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT {LOW_CARDINALITY + 1}"
    )
    if len(rows) > LOW_CARDINALITY:
        return []
    return [row[0] for row in rows[:SAMPLE_VALUES]]


def describe_tables(
    fetch: Fetch, listed: Iterable[tuple[str | None, str, str, str]]
) -> list[TableInfo]:
    """A TableInfo per table of `listed`: (schema or None, table, column, type) rows,
    ordered by schema, table and column position, as information_schema gives them."""
    infos = []
    # Grouped by schema too: the same table name can exist in two configured schemas.
    for (schema, name), rows in itertools.groupby(listed, key=lambda row: (row[0], row[1])):
        table = quote_identifier(name)
        if schema is not None:
            table = f"{quote_identifier(schema)}.{table}"
        columns = [
            Column(
                name=column,
                type=type_name,
                samples=sample_values(fetch, table, column) if is_text_type(type_name) else [],
            )
            for _, _, column, type_name in rows
        ]
        count = fetch(f"SELECT count(*) FROM {table}")[0][0]
        infos.append(TableInfo(name=name, columns=columns, row_count=int(count), schema=schema))
    return infos
