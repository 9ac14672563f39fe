"""Spend limits per person and per channel, per day and per month, and what one answer may
spend under them.

The limits are USER_DAILY_BUDGET_USD, USER_MONTHLY_BUDGET_USD, CHANNEL_DAILY_BUDGET_USD and
CHANNEL_MONTHLY_BUDGET_USD (unset: none), with per-person and per-channel overrides from
the YAML file BUDGET_OVERRIDES_FILE, keyed by the platform's user or channel id:

    users:
      U0001: {daily: 5, monthly: 50}   # raised
      U0002: {daily: 0.5}              # lowered; the monthly limit stays the default
    channels:
      C0001: {monthly: unlimited}      # lifted

Who pays is `Request.asker`; a request without one (tests, evaluation runs) has no budget.
Days and months are UTC. Verified answers cost nothing: they are always given and only
counted. The router refuses a question before any model call when a limit is reached
(`Allowance.refusal`); the agent's per-question Budget calls `before_call` and `charge`
around each model call, so an answer that reaches a limit stops before its next call.

Concurrency. Concurrent answers never overspend a limit by more than one model call, as
long as no call costs more than its reservation. Before each call the answer reserves an
estimate on each limited counter with one conditional atomic update (`Ledger.reserve`:
add to `committed_usd` only while it is below the limit); after the call it settles,
adding the call's real cost and giving back the reservation in one update. Every call
admitted saw the committed total, which already holds every earlier call's reservation
or cost, below the limit, so all calls but the last admitted one fit in the limit. The
reservation is the larger of BUDGET_CALL_ESTIMATE_USD and the answer's previous call's
cost (a conversation grows, so each call usually costs at least the one before). A call
that costs more than its reservation can overshoot by the difference; a worker that
dies between reserving and settling leaves its reservation counted (the safe side) until
the period ends.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.answer import Answer, Usage
from bot.asker import Asker
from bot.config import ConfigError
from executor.config import BudgetsConfig
from executor.errors import BudgetExceeded
from executor.governance.spend import (
    CHANNEL,
    USER,
    Counts,
    DynamoLedger,
    Ledger,
    Scope,
    SqliteLedger,
)

# The footer says how much of a limit is used from this share on.
WARN_AT = 0.8
# Spend counted without USAGE_TABLE (local runs and the CLI), in the results folder.
LOCAL_LEDGER = "usage.sqlite3"
PERIODS = ("daily", "monthly")
UNLIMITED = "unlimited"
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")


@dataclass(frozen=True)
class Limits:
    """USD per day and per month; None: no limit."""

    daily: float | None = None
    monthly: float | None = None

    def of(self, scope: Scope) -> float | None:
        return self.daily if scope.daily else self.monthly


@dataclass(frozen=True)
class Policy:
    """The limits for everyone, and the overrides for some people and channels."""

    user: Limits = Limits()
    channel: Limits = Limits()
    overrides: Mapping[str, Mapping[str, Limits]] = field(default_factory=dict)

    def limits(self, kind: str, ident: str) -> Limits:
        default = self.user if kind == USER else self.channel
        return self.overrides.get(kind, {}).get(ident, default)

    @classmethod
    def from_config(cls, config: BudgetsConfig) -> Policy:
        user = Limits(config.user_daily_usd, config.user_monthly_usd)
        channel = Limits(config.channel_daily_usd, config.channel_monthly_usd)
        overrides = read_overrides(config.overrides_file, user, channel) \
            if config.overrides_file else {}
        return cls(user, channel, overrides)


def read_overrides(path: Path, user: Limits, channel: Limits
                   ) -> dict[str, dict[str, Limits]]:
    """The overrides file, each entry merged over the default limits it overrides."""
    import yaml

    where = f"BUDGET_OVERRIDES_FILE {path}"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"{where} cannot be read: {e}") from e
    if not isinstance(data, dict) or set(data) - {"users", "channels"}:
        raise ConfigError(f"{where} must be a mapping with `users` and/or `channels`")
    overrides: dict[str, dict[str, Limits]] = {}
    for section, kind, default in (("users", USER, user), ("channels", CHANNEL, channel)):
        entries = data.get(section) or {}
        if not isinstance(entries, dict):
            raise ConfigError(f"{where}: `{section}` must map ids to limits")
        overrides[kind] = {str(ident): _override(default, limits, f"{where}: {section}.{ident}")
                           for ident, limits in entries.items()}
    return overrides


def _override(default: Limits, limits: Any, where: str) -> Limits:
    if not isinstance(limits, dict) or set(limits) - set(PERIODS) or not limits:
        raise ConfigError(f"{where} must set `daily` and/or `monthly`, got {limits!r}")
    values: dict[str, float | None] = {}
    for period, value in limits.items():
        if value is None or value == UNLIMITED:
            values[period] = None
        elif isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            values[period] = float(value)
        else:
            raise ConfigError(f"{where}.{period} must be a number >= 0 (USD) or "
                              f"{UNLIMITED!r}, got {value!r}")
    return replace(default, **values)


@dataclass(frozen=True)
class Standing:
    """Where one counter stands against its limit."""

    scope: Scope
    limit: float
    used: float

    @property
    def share(self) -> float:
        return self.used / self.limit if self.limit else 1.0

    @property
    def reached(self) -> bool:
        return self.used >= self.limit

    @property
    def period(self) -> str:
        return "daily" if self.scope.daily else "monthly"

    @property
    def name(self) -> str:
        whose = "your" if self.scope.kind == USER else "this channel's"
        return f"{whose} {self.period} budget"

    @property
    def resets(self) -> str:
        if self.scope.daily:
            return "at 00:00 UTC"
        # MONTHS[n] is the month after the n-th.
        return f"on 1 {MONTHS[int(self.scope.period[5:7]) % 12]}"

    def reason(self) -> str:
        """Why an answer stopped: 'your daily budget of $1.00 ($1.02 used; it resets …)'."""
        return (f"{self.name} of {usd(self.limit)} ({usd(self.used)} used; it resets "
                f"{self.resets})")

    def refusal(self) -> str:
        whose = "You have reached your" if self.scope.kind == USER \
            else "This channel has reached its"
        return (f"{whose} {self.period} budget: "
                f"{usd(self.used)} of {usd(self.limit)} used, so I cannot ask the AI model "
                f"now. It resets {self.resets}.")

    def note(self) -> str:
        return f"{self.share:.0%} of {self.name} used".replace("%", " %")


def usd(amount: float) -> str:
    """Dollars and cents; small amounts with four decimals, so a tiny limit reads right."""
    return f"${amount:,.2f}" if amount >= 0.1 or amount == 0 else f"${amount:.4f}"


class LimitReached(BudgetExceeded):
    """A spend limit stops the answer before its next model call."""

    def __init__(self, standing: Standing) -> None:
        super().__init__(standing.reason())


class Allowance:
    """What one answer may spend: the asker's (and channel's) counters for the day and the
    month the answer started in, with their limits."""

    def __init__(self, ledger: Ledger, counters: Sequence[tuple[Scope, float | None]],
                 estimate_usd: float) -> None:
        self._ledger = ledger
        self._counters = list(counters)
        self._estimate = estimate_usd
        self._last_cost = 0.0
        # What the call in flight reserved on each limited counter.
        self._held = 0.0

    def standings(self) -> list[Standing]:
        limited = [(scope, limit) for scope, limit in self._counters if limit is not None]
        counts = self._ledger.read([scope for scope, _ in limited])
        return [Standing(scope, limit, found.committed_usd)
                for (scope, limit), found in zip(limited, counts, strict=True)]

    def refusal(self) -> Standing | None:
        """The limit already reached that resets last (a monthly one before a daily one)."""
        reached = [standing for standing in self.standings() if standing.reached]
        return min(reached, key=lambda standing: standing.scope.daily, default=None)

    def before_call(self) -> None:
        """Reserve the next model call on every limited counter, or raise LimitReached
        (with nothing left reserved)."""
        amount = max(self._estimate, self._last_cost)
        reserved: list[Scope] = []
        for scope, limit in self._counters:
            if limit is None:
                continue
            if not self._ledger.reserve(scope, amount, limit):
                for done in reserved:
                    self._ledger.add(done, Counts(committed_usd=-amount))
                used = self._ledger.read([scope])[0].committed_usd
                raise LimitReached(Standing(scope, limit, used))
            reserved.append(scope)
        self._held = amount if reserved else 0.0

    def charge(self, call: Usage) -> None:
        """Count one model call's usage and cost, replacing its reservation."""
        for scope, limit in self._counters:
            held = self._held if limit is not None else 0.0
            self._ledger.add(scope, Counts.of_call(call, reserved=held))
        self._held = 0.0
        self._last_cost = call.cost_usd

    def release(self) -> None:
        """Give back what a call that never reported (it failed) reserved."""
        if self._held:
            for scope, limit in self._counters:
                if limit is not None:
                    self._ledger.add(scope, Counts(committed_usd=-self._held))
            self._held = 0.0

    def answered(self, answer: Answer) -> None:
        counts = Counts(answers=1, verified_answers=int(answer.verified))
        for scope, _ in self._counters:
            self._ledger.add(scope, counts)

    def notes(self) -> list[str]:
        """'82 % of your daily budget used' for the most used limit, from WARN_AT on."""
        worst = max(self.standings(), key=lambda standing: standing.share, default=None)
        return [worst.note()] if worst is not None and worst.share >= WARN_AT else []


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Budgets:
    """The policy over the ledger: each asker's allowance for the day and month it is."""

    def __init__(self, policy: Policy, ledger: Ledger, *, estimate_usd: float,
                 now: Callable[[], datetime] = _utc_now) -> None:
        self.policy = policy
        self.ledger = ledger
        self.estimate_usd = estimate_usd
        self._now = now

    def allowance(self, asker: Asker | None) -> Allowance | None:
        if asker is None:
            return None
        day = self._now().astimezone(UTC).strftime("%Y-%m-%d")
        workspace = asker.workspace or asker.platform
        whose = [(USER, asker.user)] + ([(CHANNEL, asker.channel)] if asker.channel else [])
        counters: list[tuple[Scope, float | None]] = []
        for kind, ident in whose:
            limits = self.policy.limits(kind, ident)
            for period in (day, day[:7]):
                scope = Scope(kind, f"{workspace}#{ident}", period)
                counters.append((scope, limits.of(scope)))
        return Allowance(self.ledger, counters, self.estimate_usd)


def open_ledger(config: BudgetsConfig, results_dir: Path, *, client: Any = None) -> Ledger:
    """USAGE_TABLE when it is set, else LOCAL_LEDGER in `results_dir` (the results folder,
    RESULTS_DIR, where the answers' files go too)."""
    if config.table:
        return DynamoLedger(config.table, client=client, region=config.region)
    return SqliteLedger(results_dir / LOCAL_LEDGER)


def open_budgets(config: BudgetsConfig, results_dir: Path, *, client: Any = None,
                 now: Callable[[], datetime] = _utc_now) -> Budgets:
    return Budgets(Policy.from_config(config), open_ledger(config, results_dir, client=client),
                   estimate_usd=config.call_estimate_usd, now=now)
