"""Spend limits: the policy and its overrides file, how a limit is worded, and an answer's
allowance (reserve before a call, settle after, give back on failure, count answers)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.answer import Answer, Usage
from bot.asker import Asker
from bot.config import ConfigError
from executor.config import BudgetsConfig
from executor.governance.budgets import (
    Allowance,
    Budgets,
    LimitReached,
    Limits,
    Policy,
    Standing,
    open_budgets,
)
from executor.governance.spend import Counts, Scope, SqliteLedger

ASKER = Asker(platform="slack", user="U0001", workspace="T0001", channel="C0001")
NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
USER_DAY = Scope("user", "T0001#U0001", "2026-11-30")
USER_MONTH = Scope("user", "T0001#U0001", "2026-11")
CHANNEL_DAY = Scope("channel", "T0001#C0001", "2026-11-30")
CHANNEL_MONTH = Scope("channel", "T0001#C0001", "2026-11")


@pytest.fixture
def ledger(tmp_path: Path) -> SqliteLedger:
    return SqliteLedger(tmp_path / "usage.sqlite3")


def budgets(ledger: SqliteLedger, policy: Policy, *, estimate: float = 0.01,
            now: datetime = NOW) -> Budgets:
    return Budgets(policy, ledger, estimate_usd=estimate, now=lambda: now)


def allowance(ledger: SqliteLedger, policy: Policy, **kwargs: float) -> Allowance:
    found = budgets(ledger, policy, **kwargs).allowance(ASKER)
    assert found is not None
    return found


def test_nobody_asking_means_no_budget(ledger: SqliteLedger) -> None:
    assert budgets(ledger, Policy(user=Limits(daily=0.0))).allowance(None) is None


def test_an_allowance_counts_on_the_asker_and_channel_for_the_day_and_month(
    ledger: SqliteLedger,
) -> None:
    # GIVEN an allowance WHEN one model call and the answer are counted
    spending = allowance(ledger, Policy())
    spending.before_call()
    spending.charge(Usage(model_id="m", input_tokens=10, output_tokens=5, cost_usd=0.002))
    spending.answered(Answer(text="done"))
    # THEN all four counters hold them; with no limit nothing stays reserved
    for counts in ledger.read([USER_DAY, USER_MONTH, CHANNEL_DAY, CHANNEL_MONTH]):
        assert counts == Counts(cost_usd=0.002, input_tokens=10, output_tokens=5, calls=1,
                                answers=1, committed_usd=0.002)


def test_an_asker_without_channel_or_workspace_counts_on_their_own(
    ledger: SqliteLedger,
) -> None:
    found = budgets(ledger, Policy()).allowance(Asker.local())
    assert found is not None
    found.answered(Answer(text="done", verified=True))
    scopes = {scope.key for scope, _ in ledger.month("2026-11")}
    user = Asker.local().user
    assert scopes == {f"user#cli#{user}#2026-11", f"user#cli#{user}#2026-11-30"}


def test_a_call_reserves_then_settles_on_the_limited_counters(ledger: SqliteLedger) -> None:
    # GIVEN a daily limit for people, and an estimate of $0.01 per call
    spending = allowance(ledger, Policy(user=Limits(daily=1.0)), estimate=0.01)
    # WHEN a call is about to be made THEN $0.01 is reserved on the limited counter only
    spending.before_call()
    day, month = ledger.read([USER_DAY, USER_MONTH])
    assert day.committed_usd == pytest.approx(0.01) and month.committed_usd == 0
    # WHEN it reports a cost of $0.03 THEN the reservation is replaced by the cost
    spending.charge(Usage(cost_usd=0.03))
    day, month = ledger.read([USER_DAY, USER_MONTH])
    assert day.committed_usd == pytest.approx(0.03) and month.committed_usd == pytest.approx(0.03)
    # AND the next call reserves what the last one cost, being larger than the estimate
    spending.before_call()
    assert ledger.read([USER_DAY])[0].committed_usd == pytest.approx(0.06)


def test_a_failed_call_gives_its_reservation_back(ledger: SqliteLedger) -> None:
    spending = allowance(ledger, Policy(user=Limits(daily=1.0)), estimate=0.01)
    spending.before_call()
    spending.release()
    spending.release()  # twice is harmless
    assert ledger.read([USER_DAY])[0].committed_usd == pytest.approx(0.0)


def test_a_limit_reached_stops_before_the_call_and_reserves_nothing(
    ledger: SqliteLedger,
) -> None:
    # GIVEN a channel that spent its monthly $0.05 and a person within their daily limit
    ledger.add(CHANNEL_MONTH, Counts(cost_usd=0.05, committed_usd=0.05))
    spending = allowance(ledger, Policy(user=Limits(daily=1.0), channel=Limits(monthly=0.05)))
    # WHEN a call is about to be made THEN it is refused, naming the channel's limit
    with pytest.raises(LimitReached) as stopped:
        spending.before_call()
    assert str(stopped.value) == ("this channel's monthly budget of $0.0500 ($0.0500 used; "
                                  "it resets on 1 December)")
    # AND the person's reservation made before it was given back
    assert ledger.read([USER_DAY])[0].committed_usd == pytest.approx(0.0)


def test_the_refusal_names_the_limit_that_resets_last(ledger: SqliteLedger) -> None:
    ledger.add(USER_DAY, Counts(committed_usd=2.0))
    ledger.add(USER_MONTH, Counts(committed_usd=20.0))
    spending = allowance(ledger, Policy(user=Limits(daily=1.0, monthly=20.0)))
    reached = spending.refusal()
    assert reached is not None and reached.scope == USER_MONTH
    assert reached.refusal() == ("You have reached your monthly budget: $20.00 of $20.00 used, "
                                 "so I cannot ask the AI model now. It resets on 1 December.")
    assert allowance(ledger, Policy(user=Limits(daily=5.0))).refusal() is None


@pytest.mark.parametrize(("scope", "limit", "used", "refusal", "note"), [
    (USER_DAY, 1.0, 1.02, "You have reached your daily budget: $1.02 of $1.00 used, so I "
     "cannot ask the AI model now. It resets at 00:00 UTC.", "102 % of your daily budget used"),
    (CHANNEL_DAY, 5.0, 4.1, "This channel has reached its daily budget: $4.10 of $5.00 used, "
     "so I cannot ask the AI model now. It resets at 00:00 UTC.",
     "82 % of this channel's daily budget used"),
    (Scope("user", "T#U", "2026-12"), 10.0, 10.0, "You have reached your monthly budget: "
     "$10.00 of $10.00 used, so I cannot ask the AI model now. It resets on 1 January.",
     "100 % of your monthly budget used"),
])
def test_how_a_limit_is_worded(scope: Scope, limit: float, used: float, refusal: str,
                               note: str) -> None:
    standing = Standing(scope, limit, used)
    assert standing.refusal() == refusal and standing.note() == note


def test_the_footer_notes_the_most_used_limit_from_80_percent(ledger: SqliteLedger) -> None:
    policy = Policy(user=Limits(daily=1.0, monthly=10.0), channel=Limits(daily=2.0))
    ledger.add(USER_DAY, Counts(committed_usd=0.79))
    assert allowance(ledger, policy).notes() == []
    ledger.add(CHANNEL_DAY, Counts(committed_usd=1.7))
    assert allowance(ledger, policy).notes() == ["85 % of this channel's daily budget used"]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_overrides_raise_lower_and_lift_limits(tmp_path: Path) -> None:
    # GIVEN default limits and an overrides file
    overrides = write(tmp_path / "budgets.yaml", """
users:
  U0001: {daily: 5, monthly: 50}
  U0002: {daily: 0.5}
channels:
  C0001: {monthly: unlimited}
  C0002: {daily: null, monthly: 0}
""")
    config = BudgetsConfig(user_daily_usd=1.0, user_monthly_usd=20.0, channel_daily_usd=2.0,
                           channel_monthly_usd=30.0, overrides_file=overrides)
    # WHEN the policy is read THEN each override replaces only the limits it names
    policy = open_budgets(config, tmp_path).policy
    assert policy.limits("user", "U0001") == Limits(daily=5.0, monthly=50.0)
    assert policy.limits("user", "U0002") == Limits(daily=0.5, monthly=20.0)
    assert policy.limits("user", "U0003") == Limits(daily=1.0, monthly=20.0)
    assert policy.limits("channel", "C0001") == Limits(daily=2.0, monthly=None)
    assert policy.limits("channel", "C0002") == Limits(daily=None, monthly=0.0)


def test_an_override_applies_to_that_person(tmp_path: Path, ledger: SqliteLedger) -> None:
    # GIVEN a person whose daily limit is lifted, over a default everyone else has spent
    overrides = write(tmp_path / "budgets.yaml", "users:\n  U0001: {daily: unlimited}\n")
    policy = Policy.from_config(BudgetsConfig(user_daily_usd=0.5, overrides_file=overrides))
    ledger.add(USER_DAY, Counts(committed_usd=0.6))
    # THEN they may still ask, and someone else at the same spend may not
    assert allowance(ledger, policy).refusal() is None
    other = budgets(ledger, policy).allowance(Asker("slack", "U0002", "T0001", "C0001"))
    ledger.add(Scope("user", "T0001#U0002", "2026-11-30"), Counts(committed_usd=0.6))
    assert other is not None and other.refusal() is not None


@pytest.mark.parametrize(("text", "message"), [
    ("users: [U0001]", "`users` must map ids to limits"),
    ("teams: {}", "must be a mapping with `users` and/or `channels`"),
    ("users:\n  U0001: {weekly: 3}", "users.U0001 must set `daily` and/or `monthly`"),
    ("users:\n  U0001: {daily: -1}", "users.U0001.daily must be a number >= 0 (USD) or "
     "'unlimited', got -1"),
    ("channels:\n  C1: {monthly: lots}", "channels.C1.monthly must be a number >= 0"),
    ("users: {U0001: [", "cannot be read"),
])
def test_a_malformed_overrides_file_is_a_config_error(tmp_path: Path, text: str,
                                                      message: str) -> None:
    overrides = write(tmp_path / "budgets.yaml", text)
    with pytest.raises(ConfigError, match="BUDGET_OVERRIDES_FILE") as error:
        Policy.from_config(BudgetsConfig(overrides_file=overrides))
    assert message in str(error.value)


def test_a_missing_overrides_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"BUDGET_OVERRIDES_FILE .* cannot be read"):
        Policy.from_config(BudgetsConfig(overrides_file=tmp_path / "missing.yaml"))
