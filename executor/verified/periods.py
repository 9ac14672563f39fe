"""Relative periods ("last 30 days", "last month", "this quarter") and the dates they cover.

Every period is a half-open range [start, end) of dates, anchored on "today":
- "last N days/weeks/months/quarters/years", "past N ...": the N complete units before
  today (rolling), and "past week/month/...": one unit before today (rolling);
- "last week/month/quarter/year", "yesterday": the previous calendar unit;
- "this week/month/quarter/year", "today": the current calendar unit, up to and including today;
- all time: no lower bound that matters, up to and including today.
Weeks start on Monday.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, cast

Unit = Literal["day", "week", "month", "quarter", "year"]
UNITS: tuple[str, ...] = ("day", "week", "month", "quarter", "year")
Kind = Literal["rolling", "previous", "current", "all_time"]
EPOCH = date(1970, 1, 1)
_MONTHS_PER = {"month": 1, "quarter": 3, "year": 12}


@dataclass(frozen=True)
class Period:
    kind: Kind
    unit: Unit = "day"
    n: int = 1

    def bounds(self, today: date) -> tuple[date, date]:
        """The half-open date range [start, end) this period covers on `today`."""
        if self.kind == "all_time":
            return EPOCH, today + timedelta(days=1)
        if self.kind == "rolling":
            return _shift(today, self.unit, -self.n), today
        current = _unit_start(today, self.unit)
        if self.kind == "current":
            return current, today + timedelta(days=1)
        return _shift(current, self.unit, -1), current

    def describe(self, today: date) -> str:
        """Words for the answer, with the exact dates: 'the last 30 days (… to …)'."""
        if self.kind == "all_time":
            return "all time"
        start, end = self.bounds(today)
        last_day = end - timedelta(days=1)
        if self.kind == "rolling":
            words = f"the last {self.n} {self.unit}s" if self.n > 1 else f"the past {self.unit}"
        elif self.unit == "day":
            words = "yesterday" if self.kind == "previous" else "today"
        else:
            words = f"{'last' if self.kind == 'previous' else 'this'} {self.unit}"
        if start == last_day:
            return f"{words} ({start.isoformat()})"
        return f"{words} ({start.isoformat()} to {last_day.isoformat()})"


ALL_TIME = Period("all_time")


def _unit_start(day: date, unit: Unit) -> date:
    if unit == "day":
        return day
    if unit == "week":
        return day - timedelta(days=day.weekday())
    month = day.month - (day.month - 1) % _MONTHS_PER[unit]
    return date(day.year, month, 1)


def _shift(day: date, unit: Unit, n: int) -> date:
    if unit == "day":
        return day + timedelta(days=n)
    if unit == "week":
        return day + timedelta(weeks=n)
    months = day.year * 12 + day.month - 1 + n * _MONTHS_PER[unit]
    year, month0 = divmod(months, 12)
    # The same day of the month, or the month's last day when it is shorter.
    return date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


def parse_period(tokens: list[str], i: int) -> tuple[Period, int] | None:
    """A period starting at tokens[i], and how many tokens it spans; None if there is none.

    Expects normalised tokens: singular units, digits for numbers, "last" for previous,
    "past" for recent and trailing.
    """
    word = tokens[i]
    rest = tokens[i + 1 : i + 3]
    if word == "yesterday":
        return Period("previous", "day"), 1
    if word == "today":
        return Period("current", "day"), 1
    if word in ("last", "past") and len(rest) == 2 and rest[0].isdigit() and rest[1] in UNITS:
        n = int(rest[0])
        return (Period("rolling", cast(Unit, rest[1]), n), 3) if n > 0 else None
    if word == "past" and rest and rest[0] in UNITS:
        return Period("rolling", cast(Unit, rest[0])), 2
    if word in ("last", "this") and rest and rest[0] in UNITS and rest[0] != "day":
        kind: Kind = "previous" if word == "last" else "current"
        return Period(kind, cast(Unit, rest[0])), 2
    if word in UNITS and rest[:2] == ["to", "date"]:
        return Period("current", cast(Unit, word)), 3
    return None
