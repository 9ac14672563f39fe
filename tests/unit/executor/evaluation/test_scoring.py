"""Execution match: result sets compared by their values, as the gold SQL's result."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from executor.evaluation.scoring import (
    EXACT_TOLERANCE,
    ResultSet,
    Tolerance,
    match_figures,
    match_results,
    score_refusal,
)

GOLD = ResultSet(["plan", "users"], [("free", 3515), ("pro", 1134), ("enterprise", 351)])


def test_the_same_result_is_an_exact_match() -> None:
    verdict = match_results(GOLD, GOLD, ordered=False)
    assert verdict.correct and verdict.match == "exact"


def test_extra_columns_make_a_subset_match() -> None:
    # GIVEN an answer with a share beside the gold's counts
    answer = ResultSet(
        ["plan", "users", "pct"],
        [("free", 3515, 70.3), ("pro", 1134, 22.7), ("enterprise", 351, 7.0)],
    )
    verdict = match_results(GOLD, answer, ordered=False)
    assert verdict.correct and verdict.match == "subset"


def test_a_missing_gold_column_does_not_match() -> None:
    answer = ResultSet(["plan"], [("free",), ("pro",), ("enterprise",)])
    verdict = match_results(GOLD, answer, ordered=False)
    assert not verdict.correct and verdict.reason == "1 columns, expected at least 2"


def test_column_order_and_names_are_ignored() -> None:
    answer = ResultSet(["n", "tier"], [(1134, "pro"), (351, "enterprise"), (3515, "free")])
    assert match_results(GOLD, answer, ordered=False).correct


def test_columns_are_matched_row_for_row_not_only_by_their_values() -> None:
    # GIVEN the gold's columns, each with the gold's values, but paired up differently
    answer = ResultSet(["plan", "users"], [("free", 1134), ("pro", 3515), ("enterprise", 351)])
    verdict = match_results(GOLD, answer, ordered=False)
    assert not verdict.correct and verdict.reason == "the values differ from the gold result"


def test_row_order_is_ignored_unless_ordered() -> None:
    reordered = ResultSet(GOLD.columns, list(reversed(GOLD.rows)))
    assert match_results(GOLD, reordered, ordered=False).correct
    verdict = match_results(GOLD, reordered, ordered=True)
    assert not verdict.correct and verdict.reason == "the right rows in the wrong order"
    assert match_results(GOLD, GOLD, ordered=True).correct


def test_the_number_of_rows_must_agree() -> None:
    answer = ResultSet(GOLD.columns, GOLD.rows[:2])
    verdict = match_results(GOLD, answer, ordered=False)
    assert not verdict.correct and verdict.reason == "2 rows, expected 3"


@pytest.mark.parametrize(
    ("gold", "answer", "same"),
    [
        (39.7724039829303, 39.8, True),  # rounded to 1 decimal
        (39.7724039829303, 39.77, True),  # rounded to 2
        (39.7724039829303, 39.7, False),  # truncated, not rounded
        (39.7724039829303, 40, False),  # an integer matches exactly or not at all
        (7.02, 7.0, True),  # ROUND(x, 1) of 7.02
        (7.06, 7.0, False),
        (Decimal("276192.66"), 276192.6599999998, True),  # decimal and float sums
        (5000, 5000.0, True),
        (5000, 5001, False),
        (0.5534, 0.55, True),
        (0.5534, 0.56, False),
    ],
)
def test_numbers_match_within_the_tolerance(gold: object, answer: object, same: bool) -> None:
    verdict = match_results(ResultSet(["x"], [(gold,)]), ResultSet(["y"], [(answer,)]),
                            ordered=False)
    assert verdict.correct is same


def test_the_tolerance_can_be_made_exact() -> None:
    gold, answer = ResultSet(["x"], [(39.7724,)]), ResultSet(["x"], [(39.8,)])
    assert not match_results(gold, answer, ordered=False, tolerance=EXACT_TOLERANCE).correct
    loose = Tolerance(relative=0.01, rounding=False)
    assert match_results(gold, answer, ordered=False, tolerance=loose).correct


def test_dates_match_midnight_timestamps_and_iso_text() -> None:
    gold = ResultSet(["month", "n"], [(date(2025, 1, 1), 86), (date(2025, 2, 1), 63)])
    answer = ResultSet(
        ["month", "n"], [(datetime(2025, 1, 1), 86), ("2025-02-01 00:00:00", 63)]
    )
    assert match_results(gold, answer, ordered=True).correct


def test_a_boolean_is_not_a_number() -> None:
    gold, answer = ResultSet(["x"], [(1,)]), ResultSet(["x"], [(True,)])
    assert not match_results(gold, answer, ordered=False).correct


def test_nulls_match_nulls() -> None:
    gold = ResultSet(["a", "b"], [("x", None), ("y", 2)])
    assert match_results(gold, ResultSet(["a", "b"], [("y", 2), ("x", None)]),
                         ordered=False).correct


def test_figures_stated_in_words_match_a_one_row_gold_result() -> None:
    gold = ResultSet(["p25", "p50", "p75"], [(27.22, 54.06, 112.33500000000001)])
    said = "The quartiles of order value are $27.22, $54.06 and $112.34."
    verdict = match_figures(gold, said)
    assert verdict.correct and verdict.match == "figures"
    assert not match_figures(gold, "The median is $54.06.").correct


def test_figures_need_a_one_row_numeric_gold_result() -> None:
    assert not match_figures(GOLD, "3,515 free").correct
    assert not match_figures(ResultSet(["plan"], [("free",)]), "free").correct


def test_figures_read_thousands_separators_and_signs() -> None:
    gold = ResultSet(["x", "y"], [(276192.66, -0.029)])
    assert match_figures(gold, "Revenue was 276,192.66 and the correlation -0.03.").correct


def test_a_refusal_is_correct_only_when_the_engine_declined() -> None:
    assert score_refusal(True).correct and score_refusal(True).match == "refused"
    verdict = score_refusal(False)
    assert not verdict.correct and verdict.reason == "answered a question it must refuse"
