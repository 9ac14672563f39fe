"""`:name` query parameters, the one style every caller writes, checked and translated.

A placeholder is `:name` outside string literals, quoted identifiers and comments; `::`
casts are not placeholders. Values are always bound by the driver, never formatted into
the SQL text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from executor.errors import WarehouseError

_TOKENS = re.compile(
    r"""
      (?P<skip>
          '(?:[^']|'')*'            # string literal
        | "(?:[^"]|"")*"            # quoted identifier
        | --[^\n]*                  # line comment
        | /\*.*?\*/                 # block comment
        | ::                        # cast
      )
    | :(?P<name>[A-Za-z_][A-Za-z0-9_]*)
    """,
    re.VERBOSE | re.DOTALL,
)


def placeholder_names(sql: str) -> list[str]:
    """The distinct `:name` placeholders in `sql`, in order of first use."""
    names: dict[str, None] = {}
    for match in _TOKENS.finditer(sql):
        if match.group("name"):
            names[match.group("name")] = None
    return list(names)


def check_params(sql: str, params: Mapping[str, Any] | None) -> None:
    """Every placeholder has a value and every value a placeholder, or a clear error."""
    if not params:
        return
    used = placeholder_names(sql)
    missing = [name for name in used if name not in params]
    if missing:
        raise WarehouseError(
            f"no value for query parameter(s): {', '.join(':' + n for n in missing)}"
        )
    unused = [name for name in params if name not in used]
    if unused:
        raise WarehouseError(
            f"query parameter(s) not used in the SQL: {', '.join(':' + n for n in unused)}"
        )


def rewrite_placeholders(sql: str, render: Callable[[str], str]) -> str:
    """`sql` with each `:name` placeholder replaced by `render(name)`."""

    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        return render(name) if name else match.group(0)

    return _TOKENS.sub(replace, sql)


def with_literals(sql: str, params: Mapping[str, Any]) -> str:
    """`sql` with its placeholders written as SQL literals, headed by a comment naming them:
    what an answer shows and saves, so the saved query runs as it is. Never executed by
    databot itself, which binds values instead."""
    if not params:
        return sql
    literals = {name: sql_literal(value) for name, value in params.items()}
    header = ", ".join(f":{name} = {literal}" for name, literal in literals.items())
    body = rewrite_placeholders(sql, lambda name: literals[name])
    return f"-- parameters, written in below: {header}\n{body}"


def sql_literal(value: Any) -> str:
    """A value as a standard SQL literal (dates typed, quotes doubled)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"
