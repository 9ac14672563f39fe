"""The matcher on its evaluation set (precision first), and the pieces it is built from:
text normalisation, relative periods, parameter filling."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from executor.verified import Matcher
from executor.verified.params import ParamMismatch, describe, resolve
from executor.verified.periods import ALL_TIME, Period
from executor.verified.text import Slot, singular, words
from tests.support.verified import TODAY

EVAL_SET = Path(__file__).resolve().parent.parent / "data" / "verified_eval.yaml"
MIN_PRECISION = 0.98
# Floors a little under the measured figures (1.00 / 0.99 tuned, 0.72 held out), so a
# change that loses recall fails here while wording differences stay allowed.
MIN_RECALL = {"matches": 0.95, "holdout": 0.65}


@dataclass
class Scores:
    true_positives: int = 0
    false_positives: int = 0
    positives: int = 0

    @property
    def precision(self) -> float:
        answered = self.true_positives + self.false_positives
        return self.true_positives / answered if answered else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.positives


def _expected_values(matcher: Matcher, params: dict[str, Any]) -> dict[str, Any]:
    """The eval set writes periods as words ("last 30 days"); the rest as values."""
    return {
        name: matcher.parse(value).slots[0].value if name == "period" else value
        for name, value in params.items()
    }


def _score(matcher: Matcher, items: list[dict[str, Any]]) -> tuple[Scores, list[str]]:
    scores, wrong = Scores(), []
    for item in items:
        expected = item["expect"]
        scores.positives += expected is not None
        match = matcher.match(item["q"])
        if match is None:
            continue
        want = _expected_values(matcher, item.get("params", {}))
        right_values = all(match.values.get(name) == value for name, value in want.items())
        if match.entry.id == expected and right_values:
            scores.true_positives += 1
        else:
            scores.false_positives += 1
            wrong.append(f"{item['q']!r} → {match.entry.id} {match.values} (want {expected})")
    return scores, wrong


@pytest.fixture(scope="module")
def eval_set() -> dict[str, list[dict[str, Any]]]:
    return yaml.safe_load(EVAL_SET.read_text())


@pytest.mark.parametrize("part", ["matches", "holdout"])
def test_precision_and_recall_on_the_eval_set(
    verified_matcher: Matcher, eval_set: dict[str, list[dict[str, Any]]], part: str
) -> None:
    # GIVEN paraphrases that must match their entry, and near-misses that must not
    items = eval_set[part]
    assert sum(item["expect"] is None for item in items) >= 10
    # WHEN every question goes through the matcher
    scores, wrong = _score(verified_matcher, items)
    # THEN a wrong verified answer is rare, and most paraphrases are answered
    print(
        f"{part}: precision {scores.precision:.3f}, recall {scores.recall:.3f}, "
        f"{scores.positives} positives, {len(items) - scores.positives} negatives"
    )
    assert scores.precision >= MIN_PRECISION, wrong
    assert scores.recall >= MIN_RECALL[part]


def test_eval_set_names_real_entries(
    verified_matcher: Matcher, eval_set: dict[str, list[dict[str, Any]]]
) -> None:
    ids = {entry.id for entry in verified_matcher.library.entries}
    for item in eval_set["matches"] + eval_set["holdout"]:
        assert {item["expect"], item.get("near")} - {None} <= ids, item


def test_every_phrasing_in_the_library_matches_its_own_entry(verified_matcher: Matcher) -> None:
    wrong = [
        (entry.id, phrasing)
        for entry in verified_matcher.library.entries
        for phrasing in entry.phrasings
        if getattr(verified_matcher.match(phrasing), "entry", None) != entry
    ]
    assert wrong == []


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("users who never purchased", "users_never_purchased"),
        ("users who purchased", "users_who_purchased"),
        ("revenue by country", "revenue_by_country"),
        ("users by country", "users_by_country"),
    ],
)
def test_near_misses_go_to_their_own_entry(
    verified_matcher: Matcher, question: str, entry_id: str
) -> None:
    match = verified_matcher.match(question)
    assert match is not None and match.entry.id == entry_id


def test_same_entry_different_period(verified_matcher: Matcher) -> None:
    week = verified_matcher.match("signups last week")
    month = verified_matcher.match("signups last month")
    assert week is not None and month is not None
    assert week.entry.id == month.entry.id == "signups_count"
    assert week.values["period"].bounds(TODAY) == (date(2026, 11, 9), date(2026, 11, 16))
    assert month.values["period"].bounds(TODAY) == (date(2026, 10, 1), date(2026, 11, 1))


def test_values_the_entry_cannot_take_are_not_ignored(verified_matcher: Matcher) -> None:
    # "revenue in Germany" is not total revenue, and not revenue by country either
    assert verified_matcher.match("revenue in Germany") is None
    ranked = verified_matcher.rank("revenue in Germany")
    assert all(c.values is None for c in ranked if c.entry.id.startswith("revenue"))
    assert "country Germany" in next(c.reason for c in ranked if c.entry.id == "revenue_total")


def test_closest_entries_for_an_unmatched_question(verified_matcher: Matcher) -> None:
    question = "revenue per user by country"
    assert verified_matcher.match(question) is None
    closest = [entry.id for entry in verified_matcher.closest(question)]
    assert closest[0] == "revenue_by_country" and len(closest) == 3


def test_threshold_and_margin_are_honoured(verified_matcher: Matcher) -> None:
    strict = Matcher(verified_matcher.library, threshold=1.01)
    assert verified_matcher.match("users by plan") is not None
    assert strict.match("users by plan") is None
    # "users who purchased" and "purchases per user" share their words: 1.0 vs ~0.8
    loose_margin = Matcher(verified_matcher.library, margin=0.5)
    assert loose_margin.match("users who purchased") is None


# --- normalisation ------------------------------------------------------------------------


def test_words_fold_case_accents_and_punctuation() -> None:
    assert words("Sign-ups in São Paulo, didn't we? 1,000!") == [
        "sign", "ups", "in", "sao", "paulo", "didnt", "we", "1000"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("plural", "single"),
    [("categories", "category"), ("users", "user"), ("sales", "sale"), ("business", "business"),
     ("status", "status"), ("analysis", "analysis"), ("classes", "class")],
)  # fmt: skip
def test_singular(plural: str, single: str) -> None:
    assert singular(plural) == single


def test_parse_finds_slots_synonyms_and_negation(verified_matcher: Matcher) -> None:
    parsed = verified_matcher.parse(
        "How many customers in the UK haven't bought in the past two weeks?"
    )
    assert parsed.tokens == ("user", "not", "purchase")
    assert parsed.slots == (
        Slot("country", "United Kingdom"),
        Slot("period", Period("previous", "week", 2)),
    )


def test_parse_top_n_and_bare_numbers(verified_matcher: Matcher) -> None:
    assert verified_matcher.parse("top five items").slots == (Slot("top", 5),)
    assert verified_matcher.parse("3 best selling products").slots == (Slot("top", 3),)
    assert verified_matcher.parse("signups in 2025").slots == (Slot("number", 2025),)


def test_a_list_of_values_asks_by_the_column(verified_matcher: Matcher) -> None:
    parsed = verified_matcher.parse("revenue for free, pro and enterprise")
    assert parsed.slots == () and "plan" in parsed.tokens


# --- periods ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("last 30 days", date(2026, 10, 22), date(2026, 11, 21)),
        ("past 3 months", date(2026, 8, 1), date(2026, 11, 1)),
        ("last 3 months", date(2026, 8, 1), date(2026, 11, 1)),
        ("last 2 weeks", date(2026, 11, 2), date(2026, 11, 16)),
        ("past year", date(2025, 1, 1), date(2026, 1, 1)),
        ("last week", date(2026, 11, 9), date(2026, 11, 16)),
        ("last month", date(2026, 10, 1), date(2026, 11, 1)),
        ("last quarter", date(2026, 7, 1), date(2026, 10, 1)),
        ("last year", date(2025, 1, 1), date(2026, 1, 1)),
        ("this month", date(2026, 11, 1), date(2026, 11, 22)),
        ("this week", date(2026, 11, 16), date(2026, 11, 22)),
        ("year to date", date(2026, 1, 1), date(2026, 11, 22)),
        ("yesterday", date(2026, 11, 20), date(2026, 11, 21)),
        ("today", date(2026, 11, 21), date(2026, 11, 22)),
    ],
)
def test_period_bounds(verified_matcher: Matcher, text: str, start: date, end: date) -> None:
    (slot,) = verified_matcher.parse(text).slots
    assert slot.value.bounds(TODAY) == (start, end)


def test_months_are_whole_calendar_months_across_a_year_end() -> None:
    # GIVEN the last day of a month WHEN asked for the last 3 months THEN whole months only
    assert Period("previous", "month", 3).bounds(date(2026, 1, 31)) == (
        date(2025, 10, 1), date(2026, 1, 1)
    )  # fmt: skip


def test_period_descriptions_give_the_dates() -> None:
    assert Period("previous", "day", 30).describe(TODAY) == (
        "the last 30 days (2026-10-22 to 2026-11-20)"
    )
    assert Period("previous", "day").describe(TODAY) == "yesterday (2026-11-20)"
    assert ALL_TIME.describe(TODAY) == "all time"


# --- parameters -----------------------------------------------------------------------------


def test_resolve_fills_defaults_and_refuses_misfits(verified_matcher: Matcher) -> None:
    library = verified_matcher.library
    top_items = library.get("top_items")
    assert resolve(top_items, ()) == {"n": 10}
    assert resolve(top_items, (Slot("top", 3),)) == {"n": 3}
    with pytest.raises(ParamMismatch, match="between 1 and 100"):
        resolve(top_items, (Slot("top", 500),))
    in_country = library.get("signups_in_country")
    with pytest.raises(ParamMismatch, match="no country"):
        resolve(in_country, ())
    with pytest.raises(ParamMismatch, match="more than one period"):
        resolve(
            in_country,
            (Slot("country", "Spain"), Slot("period", ALL_TIME), Slot("period", ALL_TIME)),
        )
    values = resolve(in_country, (Slot("country", "Spain"),))
    assert values == {"country": "Spain", "period": ALL_TIME}
    assert describe(in_country, values, TODAY) == " in Spain"
