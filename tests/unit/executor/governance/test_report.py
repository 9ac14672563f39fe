"""A month of the ledger added up per person, per channel and per day."""

from __future__ import annotations

import pytest

from executor.governance.report import usage_report
from executor.governance.spend import Counts, Scope

ALICE, BOB = "T0001#U0001", "T0001#U0002"
COUNTERS = [
    (Scope("user", ALICE, "2026-11"), Counts(cost_usd=0.3, input_tokens=3000, answers=3,
                                             verified_answers=1)),
    (Scope("user", ALICE, "2026-11-29"), Counts(cost_usd=0.1, input_tokens=1000, answers=1)),
    (Scope("user", ALICE, "2026-11-30"), Counts(cost_usd=0.2, input_tokens=2000, answers=2,
                                                verified_answers=1)),
    (Scope("user", BOB, "2026-11"), Counts(cost_usd=0.5, answers=1)),
    (Scope("user", BOB, "2026-11-30"), Counts(cost_usd=0.5, answers=1)),
    (Scope("channel", "T0001#C0001", "2026-11"), Counts(cost_usd=0.8, answers=4,
                                                        verified_answers=1)),
    (Scope("channel", "T0001#C0001", "2026-11-30"), Counts(cost_usd=0.7, answers=3)),
]


def test_by_user_the_biggest_spender_comes_first() -> None:
    report = usage_report("2026-11", "user", COUNTERS)
    assert [key for key, _ in report.rows] == [BOB, ALICE]
    assert report.rows[1][1].verified_rate == pytest.approx(1 / 3)
    # The total is the people's monthly counters: every answer has an asker.
    assert report.total.cost_usd == pytest.approx(0.8)
    assert (report.total.answers, report.total.verified_answers) == (4, 1)
    assert report.total.verified_rate == 0.25


def test_by_channel() -> None:
    report = usage_report("2026-11", "channel", COUNTERS)
    assert [(key, counts.answers) for key, counts in report.rows] == [("T0001#C0001", 4)]


def test_by_day_adds_up_the_people_of_each_day_in_date_order() -> None:
    report = usage_report("2026-11", "day", COUNTERS)
    assert [key for key, _ in report.rows] == ["2026-11-29", "2026-11-30"]
    day = report.rows[1][1]
    assert day.cost_usd == pytest.approx(0.7) and day.answers == 3
