"""What both adapters do alike when they describe their tables: columns, with row counts
and sizes from the warehouse's own statistics, and sample values of low-cardinality text
columns, read only for the tables a question is about (`SampleCache`), in SQL that DuckDB,
PostgreSQL and Redshift all accept.

Sample values are data anyone could have written: at most SAMPLE_VALUES of them, each
read no longer than SAMPLE_CHARS + 1 characters (the database cuts it, so a 400 KB value
never leaves it whole); describe_tables shows them on one line, as quoted JSON."""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
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


@dataclass(frozen=True)
class TableStats:
    """What the warehouse's statistics say of a table (None: they say nothing)."""

    rows: int | None = None
    size_bytes: int | None = None


TableKey = tuple[str | None, str]


def describe_tables(
    listed: Iterable[tuple[str | None, str, str, str]], stats: Mapping[TableKey, TableStats]
) -> list[TableInfo]:
    """A TableInfo per table of `listed`: (schema or None, table, column, type) rows,
    ordered by schema, table and column position, as information_schema gives them."""
    infos = []
    # Grouped by schema too: the same table name can exist in two configured schemas.
    for (schema, name), rows in itertools.groupby(listed, key=lambda row: (row[0], row[1])):
        known = stats.get((schema, name), TableStats())
        columns = [Column(name=column, type=type_name) for _, _, column, type_name in rows]
        infos.append(TableInfo(name=name, columns=columns, row_count=known.rows, schema=schema,
                               size_bytes=known.size_bytes))
    return infos


def qualified_name(table: TableInfo) -> str:
    name = quote_identifier(table.name)
    return f"{quote_identifier(table.schema)}.{name}" if table.schema else name


class SampleCache:
    """Sample values per table, read the first time a question is about the table and kept
    until the catalog changes (`clear`). Reads of different tables run at once; two
    readers of one table wait for one read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._samples: dict[tuple[TableKey, tuple[str, ...]], dict[str, list[Any]]] = {}
        self._reading: dict[tuple[TableKey, tuple[str, ...]], threading.Lock] = {}

    def with_samples(self, fetch: Fetch, tables: Sequence[TableInfo]) -> list[TableInfo]:
        return [self._sampled(fetch, table) for table in tables]

    def clear(self) -> None:
        with self._lock:
            self._samples.clear()

    def _sampled(self, fetch: Fetch, table: TableInfo) -> TableInfo:
        text = tuple(c.name for c in table.columns if is_text_type(c.type))
        if not text:
            return table
        key = ((table.schema, table.name), text)
        with self._lock:
            reading = self._reading.setdefault(key, threading.Lock())
        with reading:
            with self._lock:
                samples = self._samples.get(key)
            if samples is None:
                name = qualified_name(table)
                samples = {column: sample_values(fetch, name, column) for column in text}
                with self._lock:
                    self._samples[key] = samples
        columns = [replace(c, samples=samples.get(c.name, [])) for c in table.columns]
        return replace(table, columns=columns)
