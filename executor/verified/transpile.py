"""Library SQL (Redshift) → the warehouse's dialect, `:name` parameters kept as written."""

from __future__ import annotations

from functools import lru_cache

import sqlglot
from sqlglot import exp

SOURCE_DIALECT = "redshift"


@lru_cache(maxsize=256)
def to_dialect(sql: str, dialect: str) -> str:
    if dialect == SOURCE_DIALECT:
        return sql
    tree = sqlglot.parse_one(sql, read=SOURCE_DIALECT)
    # sqlglot writes parameters in the target's own style ($name for DuckDB); adapters
    # expect the one `:name` style every caller writes.
    named = tree.transform(
        lambda node: exp.var(f":{node.name}") if isinstance(node, exp.Placeholder) else node
    )
    return named.sql(dialect=dialect, pretty=True)
