"""What both adapters do alike when they describe their tables: sample values for
low-cardinality text columns, in SQL that DuckDB, PostgreSQL and Redshift all accept."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# A text column with at most this many distinct values is a category worth listing.
LOW_CARDINALITY = 25
# How many of its values (the most frequent first) the schema shows.
SAMPLE_VALUES = 12

Fetch = Callable[[str], list[tuple[Any, ...]]]
_TEXT_TYPE = re.compile(r"char|text|string", re.IGNORECASE)


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def is_text_type(type_name: str) -> bool:
    return bool(_TEXT_TYPE.search(type_name))


def sample_values(fetch: Fetch, table: str, column: str) -> list[Any]:
    """The most frequent values of `column` if it has few distinct ones, else [].

    `table` is the already-quoted (and schema-qualified) table name.
    """
    col = quote_identifier(column)
    rows = fetch(
        f"SELECT {col} FROM {table} WHERE {col} IS NOT NULL "
        f"GROUP BY {col} ORDER BY count(*) DESC, {col} LIMIT {LOW_CARDINALITY + 1}"
    )
    if len(rows) > LOW_CARDINALITY:
        return []
    return [row[0] for row in rows[:SAMPLE_VALUES]]
