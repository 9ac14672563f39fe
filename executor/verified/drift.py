"""The drift check: every verified entry run again through the guarded path, and what it
returns held against what was verified.

A stored entry (verified from chat) is compared with the fingerprint recorded when it was
verified (columns, types, row count, checksum: executor/verified/fingerprint.py). A library
entry (input/verified_queries.yaml) has no fingerprint: its declared shape is checked
instead, i.e. the columns its answer template and chart name exist, a `number` answer is
one row, a series' x column holds dates, and there are rows at all.

Each entry comes out ok, drifted (the data moved: row count or values beyond the
tolerance, or no rows) or broken (an error, or columns the entry relies on changed). A
stored entry runs with the values of its own question, as its fingerprint was taken
(`fingerprint_entry`, as the review desk takes it); a library entry's parameters take their
defaults, and one without a default a stand-in (all time, the first value of its list, its
minimum), so every entry runs.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from executor.errors import UnsafeSQL, WarehouseError
from executor.row_limits import VERIFIED_ROWS
from executor.verified.fingerprint import Fingerprint, Status, compare, fingerprint_entry
from executor.verified.library import Entry, Library
from executor.verified.live import combined
from executor.verified.params import ParamMismatch, bind, resolve
from executor.verified.periods import ALL_TIME, anchor_day, as_day
from executor.verified.store import StoredEntry
from executor.verified.text import Normaliser, Vocabulary
from executor.verified.transpile import to_dialect
from executor.warehouse.as_of import data_as_of
from executor.warehouse.base import QueryResult, Warehouse
from executor.warehouse.guarded import run_guarded

OK: Status = "ok"
DRIFTED: Status = "drifted"
BROKEN: Status = "broken"
STATUSES = (OK, DRIFTED, BROKEN)
# Template fields that are not result columns (executor/verified/answerer.py).
_TEMPLATE_NAMES = frozenset({"filters", "rows", "last_period"})
_ROW_FIELD = re.compile(r"(?:first|last)\[([^\]]+)\]")


@dataclass(frozen=True)
class EntryCheck:
    entry_id: str
    # "library" (input/verified_queries.yaml) or "stored" (VERIFIED_TABLE / the local file).
    origin: str
    status: Status
    reason: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"entry_id": self.entry_id, "origin": self.origin, "status": self.status,
                "reason": self.reason}


def check_served(
    warehouse: Warehouse,
    static: Library,
    stored: list[StoredEntry],
    today: date,
    *,
    tolerance: float,
) -> list[EntryCheck]:
    """Every entry the engine serves (the library less retired entries, plus the active
    stored ones), each checked; an active stored entry that does not load is broken."""
    library = combined(static, stored)
    served = {entry.id for entry in library.entries}
    # A stored entry merged into the file (`databot verified export`) is served, and
    # checked, as the file's.
    in_file = {entry.id for entry in static.entries}
    fingerprints = {record.id: record.fingerprint for record in stored
                    if record.active and record.id not in in_file}
    checks = [EntryCheck(entry_id, "stored", BROKEN, "not served: it does not load as a "
                         "library entry")
              for entry_id in fingerprints if entry_id not in served]
    for entry in library.entries:
        try:
            if entry.id in fingerprints:
                checks.append(check_stored_entry(warehouse, entry, fingerprints[entry.id],
                                                 library.vocabulary, today,
                                                 tolerance=tolerance))
            else:
                checks.append(check_library_entry(warehouse, entry, library.vocabulary, today))
        # One entry's surprise (a driver error of another kind, say) must not hide the rest.
        except Exception as e:
            origin = "stored" if entry.id in fingerprints else "library"
            checks.append(EntryCheck(entry.id, origin, BROKEN, f"unexpected error: {e!r}"))
    return checks


def check_values(entry: Entry, vocabulary: Vocabulary) -> dict[str, Any]:
    """The values the check runs `entry` with: each parameter's default, or a stand-in."""
    values: dict[str, Any] = {}
    for param in entry.params:
        if param.default is not None:
            values[param.name] = param.default
        elif param.type == "period":
            values[param.name] = ALL_TIME
        elif param.type == "enum":
            values[param.name] = next(iter(vocabulary.values[param.source].values()))
        else:
            values[param.name] = param.minimum
    return values


def question_values(entry: Entry, vocabulary: Vocabulary) -> dict[str, Any]:
    """The values the entry's own question gives it (as the matcher reads them), else the
    check's stand-ins."""
    try:
        return resolve(entry, Normaliser(vocabulary).parse(entry.question).slots)
    except ParamMismatch:
        return check_values(entry, vocabulary)


def check_stored_entry(
    warehouse: Warehouse,
    entry: Entry,
    fingerprint: Fingerprint | None,
    vocabulary: Vocabulary,
    today: date,
    *,
    tolerance: float,
) -> EntryCheck:
    """A stored entry against the fingerprint recorded when it was verified (its declared
    shape when it has none)."""
    if fingerprint is None:
        checked = check_library_entry(warehouse, entry, vocabulary, today)
        return EntryCheck(entry.id, "stored", checked.status, checked.reason)
    try:
        actual = fingerprint_entry(warehouse, entry, question_values(entry, vocabulary), today)
    except (UnsafeSQL, WarehouseError) as e:
        return EntryCheck(entry.id, "stored", BROKEN, f"error: {e}")
    comparison = compare(fingerprint, actual, tolerance=tolerance)
    return EntryCheck(entry.id, "stored", comparison.status, comparison.reason)


def run_entry(
    warehouse: Warehouse, entry: Entry, values: dict[str, Any], today: date
) -> QueryResult:
    """The entry's SQL in the warehouse's dialect, its periods counted back from the data's
    as-of date as an answer counts them (executor/verified/answerer.py)."""
    sql = to_dialect(entry.sql, warehouse.dialect)
    anchored = anchor_day(today, data_as_of(warehouse, [sql], today))
    return run_guarded(warehouse, sql, max_rows=VERIFIED_ROWS,
                       params=bind(entry, values, anchored))


def check_library_entry(
    warehouse: Warehouse, entry: Entry, vocabulary: Vocabulary, today: date
) -> EntryCheck:
    try:
        result = run_entry(warehouse, entry, check_values(entry, vocabulary), today)
    except (UnsafeSQL, WarehouseError) as e:
        return EntryCheck(entry.id, "library", BROKEN, f"error: {e}")
    status, reason = shape_check(entry, result)
    return EntryCheck(entry.id, "library", status, reason)


def shape_check(entry: Entry, result: QueryResult) -> tuple[Status, str]:
    """(status, reason) of `result` against what `entry` declares."""
    missing = sorted(used_columns(entry) - set(result.columns))
    if missing:
        return BROKEN, f"columns missing: {', '.join(missing)} (has {', '.join(result.columns)})"
    shapes = {meaning.shape for meaning in entry.meanings}
    if "number" in shapes and result.total_rows != 1:
        return BROKEN, f"a number answer returned {result.total_rows} rows, not 1"
    if not result.rows:
        return DRIFTED, "no rows"
    if "series" in shapes and entry.chart is not None:
        x = result.rows[0][result.columns.index(entry.chart.x)]
        if as_day(x) is None:
            return BROKEN, f"series column {entry.chart.x} holds {x!r}, not a date"
    return OK, ""


def used_columns(entry: Entry) -> set[str]:
    """The result columns the entry's answer template and chart name."""
    used: set[str] = set()
    for _, field, _, _ in string.Formatter().parse(entry.answer or ""):
        if not field:
            continue
        row_field = _ROW_FIELD.match(field)
        if row_field:
            used.add(row_field.group(1))
        elif field not in _TEMPLATE_NAMES and field not in ("first", "last"):
            used.add(re.split(r"[.\[]", field, maxsplit=1)[0])
    if entry.chart is not None:
        used |= {name for name in (entry.chart.x, entry.chart.y, entry.chart.series) if name}
    return used


def summary(checks: Iterable[EntryCheck]) -> dict[str, int]:
    counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
    for check in checks:
        counts[check.status] += 1
    return counts

