"""Which tables the system prompt shows, and how much room they get.

A small warehouse (up to LARGE_SCHEMA_TABLES tables and LARGE_SCHEMA_COLUMNS columns) is
shown whole, within the prompt's own budget. On a larger one the prompt stays under
LARGE_PROMPT_BYTES (about 5,500 tokens) and shows, best first:
- in full (columns, types, descriptions), at most RELEVANT_TABLES tables, as many as fit;
- by name, the next LIKELY_NAMES, then how many more describe_tables can list.

The order combines
- what the tables' names and descriptions say about the question (table_search: BM25);
- the verified library: the tables used by the SQL of the worked examples, as far as
  their questions match this one;
- the conversation: the tables the earlier SQL of the thread read, the latest most (a
  follow-up such as "and by region?" names none);
- joins: the tables that own the `*_id` columns of the best tables (fct_orders.customer_id
  brings dim_customers), and the tables referring to their key when the question is about
  them too (fct_shipments.warehouse_id for dim_warehouses);
- a discount for copies (stg_, raw_, tmp_, agg_, backups, archives, per-region copies) on
  what their words match, unless the question names what sets them apart ("the 2019
  archive", "EMEA").
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from executor.agent.table_search import LexicalRanker, TableRanker, stem, terms
from executor.tools.bounded import one_line
from executor.tools.describe_tables import NAME_CHARS
from executor.warehouse.base import TableInfo

if TYPE_CHECKING:
    from executor.agent.prompt import Example

# Past either size, the prompt shows only the tables most relevant to the question.
LARGE_SCHEMA_TABLES = 25
LARGE_SCHEMA_COLUMNS = 300
RELEVANT_TABLES = 8
LIKELY_NAMES = 40
# The whole system prompt on a large warehouse: about 5,500 tokens at 4 bytes a token.
LARGE_PROMPT_BYTES = 22_000
MORE_TABLES = "More tables, not shown above (use describe_tables for them): "

# Weights, on a scale where the best lexical match scores 1.
VERIFIED_WEIGHT = 0.6
HISTORY_WEIGHT = 1.0
HISTORY_DECAY = 0.5
JOIN_WEIGHT = 0.5
JOIN_SOURCES = 3
JUST_BELOW = 0.99
# A table that refers to a chosen one joins it only if the question is about it too.
REFERRER_EVIDENCE = 0.3
SQL_KEPT = 1_000
COPY_FACTOR = 0.1
# Name words that mark a copy, a load or a rollup of another table rather than the table to
# use, each with the words that ask for it ("the staging orders", "the 2019 archive").
COPY_WORDS = {
    "stg": "staging stage", "raw": "", "tmp": "temporary temp", "temp": "temporary",
    "backup": "", "bak": "backup", "archive": "archived", "old": "", "deprecated": "legacy",
    "legacy": "deprecated", "test": "", "dev": "", "copy": "",
    "snap": "snapshot", "dedup": "deduplicate", "int": "intermediate enriched",
    "agg": "rollup aggregate aggregated summary", "hist": "history historical",
    "extract": "extracted",
    "emea": "europe", "amer": "america", "apac": "asia", "latam": "",
    **{str(year): "" for year in range(2010, 2025)},
}
_COPY_TERMS = {stem(marker): set(terms(f"{marker} {asking}"))
               for marker, asking in COPY_WORDS.items()}


@dataclass(frozen=True)
class TableChoice:
    """`shown`: the tables to describe, best first, as many as fit; `named`: the others,
    best first; `budget_bytes`: the prompt's size limit, None to keep the prompt's own;
    `names`: how many of `named` to list at most, None for all that fit."""

    shown: list[TableInfo]
    named: list[TableInfo]
    budget_bytes: int | None = None
    names: int | None = None


def choose_tables(
    tables: Sequence[TableInfo],
    question: str,
    examples: Sequence[Example] = (),
    earlier_sql: Sequence[Sequence[str]] = (),
    dialect: str | None = None,
) -> TableChoice:
    """The tables to show for `question`; `earlier_sql`: the SQL of the thread's earlier
    turns, oldest first; `dialect`: the SQL's (sqlglot's name)."""
    columns = sum(len(table.columns) for table in tables)
    if len(tables) <= LARGE_SCHEMA_TABLES and columns <= LARGE_SCHEMA_COLUMNS:
        return TableChoice(list(tables), [])
    scores = relevance(tables, question, examples, earlier_sql, dialect)
    order = sorted(range(len(tables)), key=lambda i: (-scores[i], i))
    ranked = [tables[i] for i in order]
    return TableChoice(ranked[:RELEVANT_TABLES], ranked[RELEVANT_TABLES:],
                       LARGE_PROMPT_BYTES, LIKELY_NAMES)


def relevance(
    tables: Sequence[TableInfo],
    question: str,
    examples: Sequence[Example] = (),
    earlier_sql: Sequence[Sequence[str]] = (),
    dialect: str | None = None,
) -> list[float]:
    """Each table's relevance to the question, from every signal (see the module's doc)."""
    index = catalog_index(tables)
    lexical = index.ranker.scores(question)
    best = max(lexical, default=0.0) or 1.0
    asked = set(terms(question))
    # A copy's words are its table's: only the question's own words can ask for it, while
    # an example's or the thread's SQL that reads it asks for it by name.
    copies = {marker for marker, asking in _COPY_TERMS.items() if not asking & asked}
    is_copy = [bool(copies & name_terms) for name_terms in index.name_terms]
    scores = [score / best * (COPY_FACTOR if copy else 1.0)
              for score, copy in zip(lexical, is_copy, strict=True)]
    for example in examples:
        match = _share(asked, terms(example.question)) ** 2
        for i in index.used_by(example.sql, dialect):
            scores[i] += VERIFIED_WEIGHT * match
    for age, statements in enumerate(reversed(earlier_sql)):
        for i in {i for sql in statements for i in index.used_by(sql, dialect)}:
            scores[i] += HISTORY_WEIGHT * HISTORY_DECAY ** age
    # A join partner comes after the table that brings it in, never before.
    before = list(scores)
    for source in sorted(range(len(tables)), key=lambda i: (-before[i], i))[:JOIN_SOURCES]:
        partners = index.partners(source, lambda i: (not is_copy[i], before[i], -i))
        partners |= {i for i in index.referrers(source)
                     if not is_copy[i] and lexical[i] >= REFERRER_EVIDENCE * best}
        for i in partners:
            if before[i] < before[source]:
                joined = min(before[i] + JOIN_WEIGHT * before[source], JUST_BELOW * before[source])
                scores[i] = max(scores[i], joined)
    return scores


def names_line(tables: Sequence[TableInfo], room: int, limit: int | None = None) -> str:
    """The names of tables not described, as a JSON list: at most `limit` of them, as many
    as fit in `room` bytes, then how many more there are."""
    names = [one_line(table.name, NAME_CHARS) for table in tables[:limit]]
    while True:
        rest = len(tables) - len(names)
        line = MORE_TABLES + json.dumps(names) + (f" and {rest:,} more" if rest else "")
        if len(line.encode()) + 2 <= room or not names:
            return line
        names = names[: len(names) // 2]


class CatalogIndex:
    """What the signals read of a catalog, built once per catalog: the lexical ranker, the
    tables by name, the terms of their names, and the owners of `*_id` keys (a key column
    first in a table named after it: customer_id → dim_customers)."""

    def __init__(self, tables: Sequence[TableInfo]) -> None:
        self.tables = tables
        self.ranker: TableRanker = LexicalRanker(tables)
        self.name_terms = [set(terms(table.name)) for table in tables]
        self.keys = [[column.name.lower() for column in table.columns
                      if column.name.lower().endswith("_id")] for table in tables]
        self.by_name: dict[str, int] = {}
        self.owners: dict[str, list[int]] = {}
        self.referring: dict[str, list[int]] = {}
        for i, table in enumerate(tables):
            self.by_name.setdefault(table.name.lower(), i)
            if table.schema:
                self.by_name.setdefault(f"{table.schema}.{table.name}".lower(), i)
            for key in self.keys[i]:
                self.referring.setdefault(key, []).append(i)
            key = table.columns[0].name.lower() if table.columns else ""
            entity = stem(key.removesuffix("_id").split("_")[-1])
            if key.endswith("_id") and entity in self.name_terms[i]:
                self.owners.setdefault(key, []).append(i)
        # The verified examples and the thread's SQL come back question after question.
        self._used: dict[tuple[str, str | None], set[int]] = {}

    def used_by(self, sql: str, dialect: str | None) -> set[int]:
        """The catalog's tables `sql` reads (none when it does not parse)."""
        key = (sql, dialect)
        if key not in self._used:
            if len(self._used) >= SQL_KEPT:
                self._used.clear()
            self._used[key] = self._read_tables(sql, dialect)
        return self._used[key]

    def _read_tables(self, sql: str, dialect: str | None) -> set[int]:
        try:
            statements = sqlglot.parse(sql, read=dialect)
        except SqlglotError:
            return set()
        found: set[int] = set()
        for statement in statements:
            for table in statement.find_all(exp.Table) if statement else ():
                key = f"{table.db}.{table.name}" if table.db else table.name
                i = self.by_name.get(key.lower(), self.by_name.get(table.name.lower()))
                if i is not None:
                    found.add(i)
        return found

    def partners(self, source: int, preference: Callable[[int], Any]) -> set[int]:
        """For each `*_id` column of a table, the table that owns it that `preference`
        puts first."""
        found: set[int] = set()
        for key in self.keys[source]:
            owners = self.owners.get(key, [])
            if owners and source not in owners:  # else its own key, owned by its copies too
                found.add(max(owners, key=preference))
        return found

    def referrers(self, source: int) -> set[int]:
        """The tables with a column of the key the table owns (fct_shipments.warehouse_id
        for dim_warehouses)."""
        table = self.tables[source]
        key = table.columns[0].name.lower() if table.columns else ""
        if source not in self.owners.get(key, []):
            return set()
        owners = set(self.owners[key])
        return {i for i in self.referring.get(key, ()) if i not in owners}


def _share(asked: set[str], example: list[str]) -> float:
    """How much of an example's question the asked question shares."""
    return len(asked & set(example)) / len(set(example)) if example else 0.0


CATALOGS_KEPT = 4
_lock = threading.Lock()
_indexes: OrderedDict[int, CatalogIndex] = OrderedDict()
_last: tuple[Sequence[TableInfo], CatalogIndex] | None = None


def catalog_index(tables: Sequence[TableInfo]) -> CatalogIndex:
    """The index of this catalog, built once per content: a worker serves the same catalog
    (the same list, unless it crosses a process) to every question until it is re-read, or
    a few, with a warehouse identity per person."""
    global _last
    last = _last
    if last is not None and last[0] is tables:
        return last[1]
    key = hash(tuple((table.schema, table.name, table.description,
                      tuple((column.name, column.description) for column in table.columns))
                     for table in tables))
    with _lock:
        index = _indexes.get(key)
        if index is None:
            index = _indexes[key] = CatalogIndex(tables)
            while len(_indexes) > CATALOGS_KEPT:
                _indexes.popitem(last=False)
        _indexes.move_to_end(key)
        _last = (tables, index)
        return index
