"""A verified entry's result fingerprint: what counts as the same result, and how a later
run is judged against it (ok, drifted, broken)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from executor.verified.fingerprint import Fingerprint, compare, fingerprint_of
from executor.warehouse.base import FetchedRows

ROWS = [("France", 10, date(2026, 10, 1)), ("Germany", 20, date(2026, 10, 1))]


def rows(data: Sequence[tuple[Any, ...]], columns: tuple[str, ...] = ("country", "n", "day")
         ) -> FetchedRows:
    return FetchedRows(list(columns), list(data), 0.01)


def test_row_order_does_not_matter_unless_the_sql_orders() -> None:
    # GIVEN the same rows in two orders
    forward, backward = rows(ROWS), rows(ROWS[::-1])
    # THEN unordered fingerprints agree, ordered ones do not
    assert fingerprint_of(forward, ordered=False) == fingerprint_of(backward, ordered=False)
    assert (fingerprint_of(forward, ordered=True).checksum
            != fingerprint_of(backward, ordered=True).checksum)


def test_types_come_from_the_values_and_numbers_agree_across_drivers() -> None:
    # GIVEN a column read as ints by one driver and Decimals by another
    ints = fingerprint_of(rows(ROWS), ordered=False)
    decimals = fingerprint_of(rows([(c, Decimal(n), d) for c, n, d in ROWS]), ordered=False)
    # THEN the types and the checksum are the same
    assert ints.types == ("text", "number", "date")
    assert ints == decimals
    assert ints.row_count == 2 and ints.totals == (None, 30.0, None)
    # AND an all-NULL column's type is unknown
    assert fingerprint_of(rows([(None,)], ("x",)), ordered=False).types == ("unknown",)


def test_round_trips_through_a_dict() -> None:
    fingerprint = fingerprint_of(rows(ROWS), ordered=True)
    assert Fingerprint.from_dict(fingerprint.to_dict()) == fingerprint


def test_same_result_is_ok() -> None:
    recorded = fingerprint_of(rows(ROWS), ordered=False)
    verdict = compare(recorded, fingerprint_of(rows(ROWS[::-1]), ordered=False), tolerance=0.05)
    assert (verdict.status, verdict.reason) == ("ok", "unchanged")


def test_values_moving_within_the_tolerance_are_ok_beyond_it_drifted() -> None:
    recorded = fingerprint_of(rows(ROWS), ordered=False)
    # WHEN one value moves by 1 of 30 (3 %)
    small = fingerprint_of(rows([ROWS[0], ("Germany", 21, date(2026, 10, 1))]), ordered=False)
    # AND another time by 10 of 30
    large = fingerprint_of(rows([ROWS[0], ("Germany", 30, date(2026, 10, 1))]), ordered=False)
    # THEN the first is ok with changed values, the second drifted with the column named
    assert compare(recorded, small, tolerance=0.05).status == "ok"
    verdict = compare(recorded, large, tolerance=0.05)
    assert verdict.status == "drifted" and "total of n" in verdict.reason


def test_a_row_count_beyond_the_tolerance_drifted() -> None:
    recorded = fingerprint_of(rows(ROWS), ordered=False)
    more = fingerprint_of(rows([*ROWS, ("Spain", 0, date(2026, 10, 1))]), ordered=False)
    verdict = compare(recorded, more, tolerance=0.05)
    assert verdict.status == "drifted" and "row count moved from 2 to 3" in verdict.reason


def test_renamed_or_retyped_columns_are_broken() -> None:
    recorded = fingerprint_of(rows(ROWS), ordered=False)
    renamed = fingerprint_of(rows(ROWS, ("country", "total", "day")), ordered=False)
    retyped = fingerprint_of(rows([(c, str(n), d) for c, n, d in ROWS]), ordered=False)
    verdict = compare(recorded, renamed, tolerance=0.05)
    assert verdict.status == "broken" and "country, total, day" in verdict.reason
    verdict = compare(recorded, retyped, tolerance=0.05)
    assert verdict.status == "broken" and "n number → text" in verdict.reason
