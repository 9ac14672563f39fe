"""A month of the spend ledger, added up per person, per channel or per day (`databot
usage`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from executor.governance.spend import CHANNEL, USER, Counts, Scope


@dataclass(frozen=True)
class UsageReport:
    month: str
    by: str
    # (who or which day, its counts), the biggest spender first (by day: in date order).
    rows: list[tuple[str, Counts]]
    total: Counts


def usage_report(month: str, by: str, counters: Sequence[tuple[Scope, Counts]]) -> UsageReport:
    """`counters` are the month's (Ledger.month). Every answer is counted on its asker's
    counters, so the total is the sum of the people's monthly ones; a day's row is the sum
    of the people's counters of that day."""
    people = [(scope, counts) for scope, counts in counters if scope.kind == USER]
    total = sum((counts for scope, counts in people if not scope.daily), Counts())
    if by == "day":
        days: dict[str, Counts] = {}
        for scope, counts in people:
            if scope.daily:
                days[scope.period] = days.get(scope.period, Counts()) + counts
        return UsageReport(month, by, sorted(days.items()), total)
    kind = USER if by == "user" else CHANNEL
    rows = [(scope.owner, counts) for scope, counts in counters
            if scope.kind == kind and not scope.daily]
    rows.sort(key=lambda row: (-row[1].cost_usd, row[0]))
    return UsageReport(month, by, rows, total)
