"""The matcher on its evaluation set (precision first, by category), the rules it is built
from (a question must agree with an entry on every declared dimension, and a blocked entry
means abstain), and the pieces underneath: text normalisation, relative periods,
parameter filling."""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
import yaml

from executor.verified import Library, Matcher
from executor.verified.library import Entry, parse_library
from executor.verified.params import ParamMismatch, describe, resolve
from executor.verified.periods import ALL_TIME, Period
from executor.verified.text import Meaning, Slot, singular, words
from tests.support.paths import TEST_DATA
from tests.support.verified import TODAY

EVAL_SET = TEST_DATA / "verified_eval.yaml"
MIN_PRECISION = 0.99
MIN_RECALL = 0.85
MIN_QUESTIONS = 300
ANSWERABLE = ("paraphrase", "values", "shorthand")
NEAR_MISSES = (
    "negation", "metric_swap", "statistic_swap", "extra_filter", "combined_grouping",
    "other_grouping", "output_shape", "absolute_dates", "unknown_columns", "instructions",
    "chitchat",
)  # fmt: skip


@dataclass
class Scores:
    true_positives: int = 0
    false_positives: int = 0
    positives: int = 0
    questions: int = 0

    @property
    def precision(self) -> float:
        answered = self.true_positives + self.false_positives
        return self.true_positives / answered if answered else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.positives if self.positives else 1.0


def _expected_values(matcher: Matcher, params: dict[str, Any]) -> dict[str, Any]:
    """The eval set writes periods as words ("last 30 days"); the rest as values."""
    return {
        name: matcher.parse(value).slots[0].value if name == "period" else value
        for name, value in params.items()
    }


def _score(matcher: Matcher, items: list[dict[str, Any]]) -> tuple[dict[str, Scores], list[str]]:
    """Scores per category and overall ("all"), and the wrong matches in words."""
    scores: dict[str, Scores] = defaultdict(Scores)
    wrong = []
    for item in items:
        expected = item["expect"]
        match = matcher.match(item["q"])
        right = (
            match is not None
            and match.entry.id == expected
            and all(
                match.values.get(name) == value
                for name, value in _expected_values(matcher, item.get("params", {})).items()
            )
        )
        for key in (item["category"], "all"):
            scores[key].questions += 1
            scores[key].positives += expected is not None
            scores[key].true_positives += right
            scores[key].false_positives += match is not None and not right
        if match is not None and not right:
            wrong.append(f"{item['q']!r} → {match.entry.id} {match.values} (want {expected})")
    return scores, wrong


def _table(scores: dict[str, Scores]) -> str:
    lines = [
        f"{'category':<18} {'questions':>9} {'answerable':>10} {'wrong':>5} "
        f"{'precision':>9} {'recall':>6}"
    ]
    for category in (*ANSWERABLE, *NEAR_MISSES, "all"):
        s = scores[category]
        recall = f"{s.recall:.3f}" if s.positives else "-"
        lines.append(
            f"{category:<18} {s.questions:>9} {s.positives:>10} {s.false_positives:>5} "
            f"{s.precision:>9.3f} {recall:>6}"
        )
    return "\n".join(lines)


@pytest.fixture(scope="module")
def eval_items() -> list[dict[str, Any]]:
    return yaml.safe_load(EVAL_SET.read_text())["questions"]


def test_eval_set_is_large_and_mostly_near_misses(
    verified_matcher: Matcher, eval_items: list[dict[str, Any]]
) -> None:
    # GIVEN the evaluation set WHEN its items are counted by category
    categories = {item["category"] for item in eval_items}
    near_misses = [item for item in eval_items if item["category"] in NEAR_MISSES]
    # THEN it is large, at least half near-misses, in every category, naming real entries
    assert len(eval_items) >= MIN_QUESTIONS
    assert 2 * len(near_misses) >= len(eval_items)
    assert categories == set(ANSWERABLE) | set(NEAR_MISSES)
    ids = {entry.id for entry in verified_matcher.library.entries}
    for item in eval_items:
        assert {item["expect"], item.get("near")} - {None} <= ids, item


def test_precision_and_recall_on_the_eval_set(
    verified_matcher: Matcher, eval_items: list[dict[str, Any]]
) -> None:
    # GIVEN paraphrases that must match their entry, and near-misses that must not
    # WHEN every question goes through the matcher
    scores, wrong = _score(verified_matcher, eval_items)
    # THEN a wrong verified answer is (almost) never given, and most paraphrases are answered
    print(f"\n{_table(scores)}")
    assert scores["all"].precision >= MIN_PRECISION, wrong
    assert scores["all"].recall >= MIN_RECALL


def test_every_phrasing_in_the_library_matches_its_own_entry(verified_matcher: Matcher) -> None:
    # GIVEN each entry's question and paraphrases WHEN matched
    wrong = [
        (entry.id, phrasing, verified_matcher.decide(phrasing).reason)
        for entry in verified_matcher.library.entries
        for phrasing in entry.phrasings
        if getattr(verified_matcher.match(phrasing), "entry", None) != entry
    ]
    # THEN each reaches its own entry: the declarations cover the library's own wordings
    assert wrong == []


def _fits(entry: Entry, kinds: tuple[str, ...], library: Library) -> bool:
    """Whether the entry takes a question giving one value of each kind."""
    sample = {"period": ALL_TIME, "top": 5} | {
        kind: next(iter(values.values())) for kind, values in library.vocabulary.values.items()
    }
    try:
        resolve(entry, tuple(Slot(kind, sample[kind]) for kind in kinds))
    except ParamMismatch:
        return False
    return True


def test_every_library_entry_declares_what_it_answers(verified_library: Library) -> None:
    undeclared = [entry.id for entry in verified_library.entries if not entry.meanings]
    assert undeclared == []


def test_no_question_can_reach_two_entries(verified_library: Library) -> None:
    # GIVEN every pair of entries that declare a meaning in common
    kinds = ("period", "top", *verified_library.vocabulary.values)
    overlaps = []
    for a, b in itertools.combinations(verified_library.entries, 2):
        if not a.meanings & b.meanings:
            continue
        # WHEN both are offered every combination of values
        for n in range(len(kinds) + 1):
            for given in itertools.combinations(kinds, n):
                if _fits(a, given, verified_library) and _fits(b, given, verified_library):
                    overlaps.append((a.id, b.id, given))
    # THEN at most one of them takes any question: the filters or period tell them apart
    assert overlaps == []


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("users who never purchased", "users_never_purchased"),
        ("users who purchased", "users_who_purchased"),
        ("revenue by country", "revenue_by_country"),
        ("users by country", "users_by_country"),
        ("number of buyers", "users_who_purchased"),
        ("number of purchases", "revenue_total"),
        ("average order value", "average_order_value"),
    ],
)
def test_near_misses_go_to_their_own_entry(
    verified_matcher: Matcher, question: str, entry_id: str
) -> None:
    match = verified_matcher.match(question)
    assert match is not None and match.entry.id == entry_id


@pytest.mark.parametrize(
    "question",
    [
        "top items by number of purchases",  # the metric swapped: purchases, not revenue
        "buyers by country",  # buyers are not users
        "total order value",  # total, not average
        "median order value",  # median, not average
        "average revenue per user",  # per user turns revenue into another metric
        "peak daily active users",
        "list the users in Germany",  # a list, not a count
        "revenue trend",  # a series, not one number
        "revenue by plan and country",  # a grouping the entry does not have
        "users by browser",  # an unknown column
        "revenue for Q3",  # a value no entry takes
        "drop table users",
        "hello",
    ],
)
def test_anything_unexplained_makes_it_abstain(verified_matcher: Matcher, question: str) -> None:
    # GIVEN a question that shares words with an entry but asks something else
    # WHEN matched THEN no entry answers it
    decision = verified_matcher.decide(question)
    assert decision.match is None, decision.match
    assert decision.reason


def test_a_blocked_entry_never_hands_over_to_another(verified_matcher: Matcher) -> None:
    # GIVEN "revenue by plan", whose entry has no period, asked for a period
    question = "revenue by plan last month"
    assert verified_matcher.parse(question).meaning == Meaning(
        frozenset({"revenue"}), grouping=frozenset({"plan"}), shape="ranking"
    )
    # WHEN matched THEN it abstains, naming the entry and why, rather than answer with
    # another entry that does take a period (total revenue, revenue by month)
    decision = verified_matcher.decide(question)
    assert decision.match is None
    assert decision.reason.startswith("cannot take the question's values: revenue_by_plan")
    assert "period" in decision.reason


def test_two_values_of_a_column_are_a_filter_not_a_grouping(verified_matcher: Matcher) -> None:
    # GIVEN questions naming two values of one column, and one naming all of them
    two = verified_matcher.parse("signups in Germany vs France")
    every = verified_matcher.parse("revenue for free, pro and enterprise")
    # WHEN parsed THEN two values stay filters (which no entry takes once) ...
    assert two.meaning.grouping == frozenset()
    assert [slot.value for slot in two.slots] == ["Germany", "France"]
    assert verified_matcher.match("signups in Germany vs France") is None
    # ... and every value of the column asks by that column
    assert every.meaning.grouping == {"plan"} and every.slots == ()


# A vocabulary of a few words, for libraries built in tests.
SMALL_VOCABULARY = {
    "synonyms": {"monthly": ["by month"]},
    "dimensions": ["monthly", "country"],
    "statistics": ["total", "average"],
    "shapes": {"series": ["monthly"]},
}


def test_entries_that_agree_with_the_question_are_ambiguous_when_several_fit() -> None:
    # GIVEN two entries declaring the same meaning, neither told apart by parameters
    entries = [
        {
            "id": name,
            "question": f"How much was refunded ({name})?",
            "paraphrases": ["Total refunds"],
            "intent": {"metric": ["refund"], "shape": "number"},
            "sql": "SELECT 1 AS refunded",
            "explanation": "Refunds.",
            "verified_by": "tests",
            "verified_at": TODAY,
        }
        for name in ("refunds_a", "refunds_b")
    ]
    matcher = Matcher(parse_library({"vocabulary": SMALL_VOCABULARY, "entries": entries}))
    # WHEN asked THEN neither answers
    decision = matcher.decide("total refunds")
    assert decision.match is None and decision.reason == "ambiguous: refunds_a; refunds_b"
    # and with one of them alone, it does
    single = Matcher(parse_library({"vocabulary": SMALL_VOCABULARY, "entries": entries[:1]}))
    match = single.match("refunds")
    assert match is not None and match.entry.id == "refunds_a"


def test_an_entry_without_a_declaration_answers_what_its_phrasings_ask() -> None:
    # GIVEN an entry with no intent (as one verified from chat would be)
    library = parse_library(
        {
            "vocabulary": SMALL_VOCABULARY,
            "entries": [
                {
                    "id": "refunds",
                    "question": "How much was refunded?",
                    "paraphrases": ["Total refunds by month"],
                    "sql": "SELECT 1 AS refunded",
                    "explanation": "Refunds.",
                    "verified_by": "tests",
                    "verified_at": TODAY,
                }
            ],
        }
    )
    matcher = Matcher(library)
    # WHEN asked its own wordings and others THEN only what they ask is answered
    assert getattr(matcher.match("monthly refunds total"), "entry", None) is not None
    assert matcher.match("refunds by country") is None
    assert matcher.match("average refunds by month") is None


@pytest.mark.parametrize(
    ("question", "meaning"),
    [
        ("How many customers haven't bought?",
         Meaning(frozenset({"user", "not", "purchase"}), frozenset({"total"}))),
        ("average revenue per purchase",
         Meaning(frozenset({"revenue"}), frozenset({"average", "per_purchase"}))),
        ("top 5 products by revenue",
         Meaning(frozenset({"revenue"}), grouping=frozenset({"item"}), shape="ranking")),
        ("list the buyers", Meaning(frozenset({"user", "purchase"}), shape="list")),
        ("chart of weekly signups",
         Meaning(frozenset({"signup"}), grouping=frozenset({"weekly"}), shape="series")),
        ("how many countries", Meaning(frozenset({"total_country"}), frozenset({"total"}))),
        ("users per country",
         Meaning(frozenset({"user"}), grouping=frozenset({"country"}), shape="ranking")),
        ("revenue in the toys category", Meaning(frozenset({"revenue"}))),
        ("products in toys", Meaning(frozenset(), grouping=frozenset({"item"}), shape="list")),
        ("who signed up last week?", Meaning(frozenset({"signup"}), shape="list")),
        ("users who signed up last week", Meaning(frozenset({"user", "signup"}))),
        ("revenue vs last month", Meaning(frozenset({"revenue"}), frozenset({"versus"}))),
        ("revenue for each of the last 6 months",
         Meaning(frozenset({"revenue"}), grouping=frozenset({"monthly"}), shape="series")),
    ],
)  # fmt: skip
def test_parse_places_every_word(
    verified_matcher: Matcher, question: str, meaning: Meaning
) -> None:
    assert verified_matcher.parse(question).meaning == meaning


@pytest.mark.parametrize(
    ("question", "slots"),
    [
        ("rev last wk", (Slot("period", Period("previous", "week")),)),
        ("Spanish users", (Slot("country", "Spain"),)),
        ("signups in the US", (Slot("country", "United States"),)),
        ("top 5 skus", (Slot("top", 5),)),
        ("30-day retention by cohort", ()),
        ("signups in 2025", (Slot("number", 2025),)),
    ],
)
def test_shorthand_demonyms_plurals_and_numbers_in_names(
    verified_matcher: Matcher, question: str, slots: tuple[Slot, ...]
) -> None:
    parsed = verified_matcher.parse(question)
    assert parsed.slots == slots
    assert "wk" not in parsed.tokens and "sku" not in parsed.tokens


def test_closest_entries_for_an_unmatched_question(verified_matcher: Matcher) -> None:
    question = "revenue per user by country"
    assert verified_matcher.match(question) is None
    closest = [entry.id for entry in verified_matcher.closest(question)]
    assert closest[0] == "revenue_by_country" and len(closest) == 3


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


def test_parse_top_n_and_bare_numbers(verified_matcher: Matcher) -> None:
    assert verified_matcher.parse("top five items").slots == (Slot("top", 5),)
    assert verified_matcher.parse("3 best selling products").slots == (Slot("top", 3),)
    assert verified_matcher.parse("signups in 2025").slots == (Slot("number", 2025),)


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
