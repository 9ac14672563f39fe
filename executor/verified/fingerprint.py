"""A verified query's result fingerprint, and whether a later run still matches it.

Recorded when a reviewer verifies an entry and compared by the daily check: the columns,
each column's type as read from its values, the row count, each numeric column's total,
and a checksum of the rows. The checksum ignores row order unless the SQL orders its
result, so a warehouse returning the same rows in another order is not a change.

`fingerprint_entry` runs an entry and fingerprints its result, the same way when a reviewer
verifies it (executor/verified/review.py) and when the daily check runs it again
(executor/verified/drift.py). `compare` reads a new run against the recorded one: `broken`
when the columns or their types changed (the entry's answer template and chart read them
by name), `drifted` when the row count or a numeric total moved by more than a relative
tolerance, `ok` otherwise.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from executor.row_limits import FINGERPRINT_ROWS
from executor.verified.library import Entry
from executor.verified.params import bind
from executor.verified.periods import anchor_day
from executor.verified.transpile import to_dialect
from executor.warehouse.as_of import data_as_of
from executor.warehouse.base import FetchedRows, Warehouse
from executor.warehouse.guarded import guard_to_run

Status = Literal["ok", "drifted", "broken"]
# A column whose values are all NULL says nothing about its type: it agrees with any.
UNKNOWN = "unknown"
# Floats are compared at this many significant digits: the last bits of a SUM or AVG vary
# with the order a warehouse adds in.
DIGITS = 9
DEFAULT_TOLERANCE = 0.05


@dataclass(frozen=True)
class Fingerprint:
    columns: tuple[str, ...]
    types: tuple[str, ...]
    row_count: int
    checksum: str
    ordered: bool = False
    # Each column's sum when its values are numbers, else None.
    totals: tuple[float | None, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns), "types": list(self.types),
            "row_count": self.row_count, "checksum": self.checksum, "ordered": self.ordered,
            "totals": list(self.totals),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fingerprint:
        return cls(
            columns=tuple(str(c) for c in data["columns"]),
            types=tuple(str(t) for t in data["types"]),
            row_count=int(data["row_count"]),
            checksum=str(data["checksum"]),
            ordered=bool(data.get("ordered", False)),
            totals=tuple(None if t is None else float(t) for t in data.get("totals", [])),
        )


@dataclass(frozen=True)
class Comparison:
    status: Status
    reason: str


def fingerprint_of(rows: FetchedRows, *, ordered: bool) -> Fingerprint:
    """The fingerprint of a result; `ordered` when the SQL orders it (ORDER BY)."""
    columns = tuple(rows.columns)
    values = list(zip(*rows.rows, strict=True)) if rows.rows else [() for _ in columns]
    digests = [_digest(row) for row in rows.rows]
    if not ordered:
        digests.sort()
    return Fingerprint(
        columns=columns,
        types=tuple(_type_of(column) for column in values),
        row_count=len(rows.rows),
        checksum=hashlib.sha256("\n".join(digests).encode()).hexdigest(),
        ordered=ordered,
        totals=tuple(_total(column) for column in values),
    )


def fingerprint_entry(
    warehouse: Warehouse, entry: Entry, values: dict[str, Any], today: date
) -> Fingerprint:
    """Guard and run the entry's SQL with `values` bound as an answer binds them, and
    fingerprint its result (up to FINGERPRINT_ROWS rows). Raises UnsafeSQL or
    WarehouseError."""
    sql = to_dialect(entry.sql, warehouse.dialect)
    checked = guard_to_run(warehouse, sql)
    anchored = anchor_day(today, data_as_of(warehouse, [sql], today))
    rows = warehouse.query(checked.capped(FINGERPRINT_ROWS), FINGERPRINT_ROWS,
                           bind(entry, values, anchored))
    return fingerprint_of(rows, ordered=checked.statement.args.get("order") is not None)


def compare(expected: Fingerprint, actual: Fingerprint, *, tolerance: float) -> Comparison:
    """How `actual` (a new run) stands against `expected` (the recorded one)."""
    if [c.lower() for c in expected.columns] != [c.lower() for c in actual.columns]:
        return Comparison("broken", f"columns changed from {', '.join(expected.columns)} "
                                    f"to {', '.join(actual.columns)}")
    changed = [
        f"{name} {was} → {now}"
        for name, was, now in zip(expected.columns, expected.types, actual.types, strict=True)
        if UNKNOWN not in (was, now) and was != now
    ]
    if changed:
        return Comparison("broken", f"column types changed: {'; '.join(changed)}")
    if _moved(expected.row_count, actual.row_count, tolerance):
        return Comparison("drifted", f"row count moved from {expected.row_count:,} to "
                                     f"{actual.row_count:,} (tolerance {tolerance:.0%})")
    for name, was, now in zip(expected.columns, expected.totals, actual.totals, strict=False):
        if was is not None and now is not None and _moved(was, now, tolerance):
            return Comparison("drifted", f"total of {name} moved from {was:,.6g} to "
                                         f"{now:,.6g} (tolerance {tolerance:.0%})")
    if expected.checksum != actual.checksum:
        return Comparison("ok", "values changed within the tolerance")
    return Comparison("ok", "unchanged")


def _moved(was: float, now: float, tolerance: float) -> bool:
    if was == now:
        return False
    return abs(now - was) > tolerance * max(abs(was), abs(now))


def _digest(row: Sequence[Any]) -> str:
    text = "\x1f".join(_canonical(value) for value in row)
    return hashlib.sha256(text.encode()).hexdigest()


def _canonical(value: Any) -> str:
    """One spelling per value, whatever driver read it: 3, 3.0 and Decimal('3.00') agree."""
    if value is None:
        return "\x00"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float | Decimal):
        number = float(value)
        return "nan" if math.isnan(number) else f"{number:.{DIGITS}g}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _type_of(values: Sequence[Any]) -> str:
    """The column's type as its values show it: number, text, date, timestamp, boolean."""
    kinds = {_kind(value) for value in values if value is not None}
    if not kinds:
        return UNKNOWN
    return kinds.pop() if len(kinds) == 1 else "mixed"


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return "number"
    if isinstance(value, datetime):
        return "timestamp"
    if isinstance(value, date):
        return "date"
    return "text"


def _total(values: Sequence[Any]) -> float | None:
    numbers = [value for value in values if value is not None]
    if not numbers or not all(_kind(value) == "number" for value in numbers):
        return None
    return float(sum(float(value) for value in numbers))
