"""The data's "as of" date: the latest date in the tables an answer read.

Every answer and chart states it, and relative periods count back from it when the data
ends before today (docs/periods.md). A table's latest date is the largest value, up to
today, among its date and timestamp columns: a column whose latest value lies in the
future (an expiry date, a scheduled time) says nothing about how fresh the data is, and is
passed over. One MAX query per table, kept for a few minutes per warehouse.
"""

from __future__ import annotations

import re
import threading
import time
import weakref
from collections.abc import Callable, Collection, Iterable
from datetime import date, datetime
from typing import Any

from bot.observability import service_logger
from executor.errors import DatabotError
from executor.warehouse.base import TableInfo, Warehouse
from executor.warehouse.catalog import quote_identifier
from executor.warehouse.guarded import guard

logger = service_logger()

CACHE_SECONDS = 300.0
# DATE, TIMESTAMP, TIMESTAMPTZ, "timestamp without time zone", DATETIME; not TIME alone.
_DATED_TYPE = re.compile(r"^date$|timestamp|datetime", re.IGNORECASE)

_lock = threading.Lock()
# warehouse → table key → (read at, the column maxima read then)
_cache: weakref.WeakKeyDictionary[Any, dict[str, tuple[float, list[date]]]] = (
    weakref.WeakKeyDictionary()
)


def data_as_of(
    warehouse: Warehouse,
    statements: Iterable[str],
    today: date,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> date | None:
    """The latest date, up to `today`, in the tables `statements` read; None when they
    read no dated table (or none of them could be checked)."""
    names: set[str] = set()
    for sql in statements:
        try:
            names |= guard(warehouse, sql).tables
        except DatabotError:
            continue  # a statement the guard refuses ran nothing, so read no data
    return tables_as_of(warehouse, names, today, clock=clock)


def tables_as_of(
    warehouse: Warehouse,
    names: Collection[str],
    today: date,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> date | None:
    """The latest date, up to `today`, in the tables named (bare or schema-qualified)."""
    wanted = {name.lower() for name in names}
    latest: date | None = None
    for table in warehouse.tables():
        if _key(table) not in wanted and table.name.lower() not in wanted:
            continue
        for value in _column_maxima(warehouse, table, clock):
            if value <= today and (latest is None or value > latest):
                latest = value
    return latest


def _column_maxima(
    warehouse: Warehouse, table: TableInfo, clock: Callable[[], float]
) -> list[date]:
    columns = [column.name for column in table.columns if _DATED_TYPE.search(column.type)]
    if not columns:
        return []
    key, now, owner = _key(table), clock(), _data_owner(warehouse)
    with _lock:
        cached = _cache.setdefault(owner, {}).get(key)
    if cached is not None and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    name = quote_identifier(table.name)
    if table.schema:
        name = f"{quote_identifier(table.schema)}.{name}"
    maxima = ", ".join(f"MAX({quote_identifier(column)})" for column in columns)
    try:
        row = warehouse.query(f"SELECT {maxima} FROM {name}", 1).rows[0]
    except DatabotError:
        # The answer stands without its as-of date; the reason is in the log.
        logger.exception("table=<%s> | could not read the latest dates", key)
        return []
    values = [_as_date(value) for value in row if value is not None]
    with _lock:
        _cache.setdefault(owner, {})[key] = (now, values)
    return values


def _data_owner(warehouse: Warehouse) -> Any:
    """The warehouse whose data the dates are read from: a wrapper made for one request
    (the audit trail's, executor/governance/audited.py) names it, so the dates outlive it."""
    return getattr(warehouse, "wrapped", warehouse)


def _key(table: TableInfo) -> str:
    return f"{table.schema}.{table.name}".lower() if table.schema else table.name.lower()


def _as_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value
