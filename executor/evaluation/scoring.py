"""Execution match: an answer is right when its result holds the gold SQL's result.

As open text-to-SQL evaluation suites score, the SQL's text does not matter, its result
does. Two results match when every gold column has a column of the answer with the same
values row for row:

- column names and column order are ignored (a column is matched by its values);
- the answer may carry extra columns (a count beside a share): a *subset* match; the same
  columns and nothing more is an *exact* match;
- row order is ignored unless the question is `ordered`; the number of rows must agree;
- numbers match within a relative tolerance, and a value written with d decimals matches
  anything that rounds to it (12.3 matches 12.34, not 12.36); integers match exactly;
- dates match their ISO text and a timestamp at midnight; a decimal matches a float.

A refusal question is correct when the engine declined in words, running no query. An
answer that ran Python may instead state the gold figures: a one-row gold result matches
when each of its numbers appears in the answer's text or the Python's printed output.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from typing import Any

# Column assignments tried before giving up: only columns with equal values are candidates,
# so real results need one or two.
MAX_ASSIGNMENTS = 1_000
_MIDNIGHT = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T]00:00:00(?:\.0+)?$")
_NUMBER = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?|(?<![\w.])-?\.\d+")


@dataclass(frozen=True)
class ResultSet:
    columns: list[str]
    rows: list[tuple[Any, ...]]


@dataclass(frozen=True)
class Tolerance:
    # Numbers whose difference is within this share of the larger match.
    relative: float = 1e-6
    # A value with d decimals (d >= 1) matches within half a unit of its last decimal.
    rounding: bool = True


EXACT_TOLERANCE = Tolerance(relative=0.0, rounding=False)


@dataclass(frozen=True)
class Verdict:
    correct: bool
    # How it matched: "exact", "subset", "figures" (Python's stated numbers), "refused".
    match: str = ""
    # Why it did not, for the report.
    reason: str = ""


@dataclass(frozen=True, order=True)
class _Number:
    value: float
    # Decimals it is written with; 0 for an integer.
    decimals: int = 0


def match_results(
    gold: ResultSet, answer: ResultSet, *, ordered: bool, tolerance: Tolerance = Tolerance()
) -> Verdict:
    """Whether `answer` holds `gold`: every gold column among its columns, row for row."""
    if len(answer.rows) != len(gold.rows):
        return Verdict(False, reason=f"{len(answer.rows):,} rows, expected {len(gold.rows):,}")
    width = len(gold.columns)
    if len(answer.columns) < width:
        return Verdict(
            False, reason=f"{len(answer.columns)} columns, expected at least {width}"
        )
    gold_rows = [tuple(_normal(v) for v in row) for row in gold.rows]
    answer_rows = [tuple(_normal(v) for v in row) for row in answer.rows]
    kind = "exact" if len(answer.columns) == width else "subset"
    for assignment in _assignments(gold_rows, answer_rows, width, len(answer.columns), tolerance):
        projected = [tuple(row[i] for i in assignment) for row in answer_rows]
        if _same_rows(gold_rows, projected, ordered, tolerance):
            return Verdict(True, kind)
    if ordered and match_results(gold, answer, ordered=False, tolerance=tolerance).correct:
        return Verdict(False, reason="the right rows in the wrong order")
    return Verdict(False, reason="the values differ from the gold result")


def match_figures(gold: ResultSet, text: str, tolerance: Tolerance = Tolerance()) -> Verdict:
    """Whether every number of a one-row, all-numeric gold result is stated in `text`."""
    if len(gold.rows) != 1:
        return Verdict(False, reason="only a one-row gold result can be matched in words")
    wanted = [_normal(value) for value in gold.rows[0]]
    if not all(isinstance(value, _Number) for value in wanted):
        return Verdict(False, reason="only numbers can be matched in words")
    stated = [_normal(_parse_number(found)) for found in _NUMBER.findall(text)]
    missing = [
        value for value in wanted if not any(_same(value, s, tolerance) for s in stated)
    ]
    if missing:
        return Verdict(False, reason="the answer does not state the gold figures")
    return Verdict(True, "figures")


def score_refusal(refused: bool) -> Verdict:
    if refused:
        return Verdict(True, "refused")
    return Verdict(False, reason="answered a question it must refuse")


def _assignments(
    gold: Sequence[tuple[Any, ...]],
    answer: Sequence[tuple[Any, ...]],
    width: int,
    answer_width: int,
    tolerance: Tolerance,
) -> Iterator[tuple[int, ...]]:
    """Answer column indexes for the gold columns, one distinct column each, trying only
    columns that hold the same values (in any order) as the gold column."""
    candidates = [
        [
            i
            for i in range(answer_width)
            if _same_values([row[j] for row in gold], [row[i] for row in answer], tolerance)
        ]
        for j in range(width)
    ]
    if not all(candidates):
        return
    yield from islice(_choose(candidates, ()), MAX_ASSIGNMENTS)


def _choose(candidates: list[list[int]], chosen: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
    if len(chosen) == len(candidates):
        yield chosen
        return
    for index in candidates[len(chosen)]:
        if index not in chosen:
            yield from _choose(candidates, (*chosen, index))


def _same_values(gold: list[Any], answer: list[Any], tolerance: Tolerance) -> bool:
    return all(
        _same(g, a, tolerance)
        for g, a in zip(sorted(gold, key=_key), sorted(answer, key=_key), strict=True)
    )


def _same_rows(
    gold: list[tuple[Any, ...]],
    answer: list[tuple[Any, ...]],
    ordered: bool,
    tolerance: Tolerance,
) -> bool:
    if not ordered:
        gold, answer = sorted(gold, key=_row_key), sorted(answer, key=_row_key)
    return all(
        _same(g, a, tolerance)
        for gold_row, answer_row in zip(gold, answer, strict=True)
        for g, a in zip(gold_row, answer_row, strict=True)
    )


def _same(gold: Any, answer: Any, tolerance: Tolerance) -> bool:
    if isinstance(gold, _Number) and isinstance(answer, _Number):
        return _close(gold, answer, tolerance)
    return type(gold) is type(answer) and bool(gold == answer)


def _close(a: _Number, b: _Number, tolerance: Tolerance) -> bool:
    difference = abs(a.value - b.value)
    if difference <= tolerance.relative * max(abs(a.value), abs(b.value)):
        return True
    coarser = min(a.decimals, b.decimals)
    # The float error of the subtraction itself is allowed on top of half a unit.
    return (
        tolerance.rounding
        and coarser >= 1
        and difference <= 0.5 * 10.0**-coarser + 1e-9 * max(1.0, abs(a.value))
    )


def _normal(value: Any) -> Any:
    """One comparable form per kind of value: numbers as _Number, dates as ISO text."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return _Number(float(value))
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        return _Number(float(value), decimals)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return _Number(value, _decimals(value))
    if isinstance(value, datetime):
        if value.time() == datetime.min.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        text = value.strip()
        midnight = _MIDNIGHT.match(text)
        return midnight.group(1) if midnight else text
    return str(value)


def _decimals(value: float) -> int:
    """The decimals `value` is written with: 12.34 has 2, and 7.0 has 1, as ROUND(x, 1)
    gives it (an integer has none)."""
    text = repr(value)
    return 0 if "e" in text else len(text.partition(".")[2])


def _parse_number(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def _key(value: Any) -> tuple[int, Any]:
    """Sorts values of mixed kinds: nothing, booleans, numbers, text."""
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, _Number):
        return (2, value.value)
    return (3, str(value))


def _row_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Labels first, then numbers: rows sort by their exact values, so that a number a
    rounding away from another cannot swap two rows."""
    labels = [_key(v) for v in row if not isinstance(v, _Number)]
    numbers = [_key(v) for v in row if isinstance(v, _Number)]
    return (*labels, *numbers)
