"""What an answer shows and saves as its SQL: parameters written in as literals, so the
saved query runs as it is, with the placeholders named in a comment."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from executor.warehouse.params import sql_literal, with_literals


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        (None, "NULL"),
        (True, "TRUE"),
        (7, "7"),
        (2.5, "2.5"),
        ("France", "'France'"),
        ("Côte d'Ivoire", "'Côte d''Ivoire'"),
        (date(2026, 11, 1), "DATE '2026-11-01'"),
        (datetime(2026, 11, 1, 8, 30), "TIMESTAMP '2026-11-01 08:30:00'"),
    ],
)
def test_values_become_typed_literals(value: object, literal: str) -> None:
    assert sql_literal(value) == literal


def test_placeholders_are_written_in_and_named_in_a_comment() -> None:
    sql = "SELECT ':kept' AS s, x::int FROM t WHERE c = :country AND d >= :start -- :note"
    written = with_literals(sql, {"country": "O'Hara", "start": date(2026, 1, 1)})
    header, body = written.split("\n", 1)
    assert header == (
        "-- parameters, written in below: :country = 'O''Hara', :start = DATE '2026-01-01'"
    )
    assert body == (
        "SELECT ':kept' AS s, x::int FROM t "
        "WHERE c = 'O''Hara' AND d >= DATE '2026-01-01' -- :note"
    )


def test_the_written_query_gives_what_the_bound_query_gives() -> None:
    # GIVEN a parameterised query WHEN run bound and run as written THEN the results agree
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES ('a', DATE '2026-01-05'), "
                "('b', DATE '2025-12-31'), ('a', DATE '2025-06-01')) v(c, d)")
    sql = "SELECT COUNT(*) FROM t WHERE c = $country AND d >= $start"
    params = {"country": "a", "start": date(2026, 1, 1)}
    bound = con.execute(sql, params).fetchall()
    written = with_literals(sql.replace("$", ":"), params)
    assert con.execute(written).fetchall() == bound == [(1,)]


def test_no_parameters_leaves_the_sql_alone() -> None:
    assert with_literals("SELECT 1", {}) == "SELECT 1"
