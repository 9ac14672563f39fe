"""Relative periods ("last 30 days", "last month", "this year") and the dates they cover,
and the partial current period of a time series. The rules are written in docs/periods.md;
the verified library and the agent's prompt follow the same ones.

Every period is a half-open range [start, end) of whole days, anchored on "today": the
real date, or the data's as-of date when the data ends earlier (see `anchor_day`).
- "last N days/weeks/months/quarters/years", "past N ...", "last/past week/month/...",
  "yesterday": the N whole calendar units before the current one (N = 1 when not given);
- "this week/month/quarter/year", "... to date", "today": the current unit, up to and
  including today, so usually partial;
- all time: no lower bound that matters, up to and including today.
Weeks start on Monday. The current unit is never counted in "last N": three months are
three whole months, never two and a bit.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, cast

Unit = Literal["day", "week", "month", "quarter", "year"]
UNITS: tuple[str, ...] = ("day", "week", "month", "quarter", "year")
Kind = Literal["previous", "current", "all_time"]
EPOCH = date(1970, 1, 1)
_MONTHS_PER = {"month": 1, "quarter": 3, "year": 12}
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Period:
    kind: Kind
    unit: Unit = "day"
    n: int = 1

    def bounds(self, today: date) -> tuple[date, date]:
        """The half-open date range [start, end) this period covers on `today`."""
        if self.kind == "all_time":
            return EPOCH, today + ONE_DAY
        current = unit_start(today, self.unit)
        if self.kind == "current":
            return current, today + ONE_DAY
        return _shift(current, self.unit, -self.n), current

    def describe(self, today: date) -> str:
        """Words for the answer, with the exact dates: 'the last 3 months (… to …)'."""
        if self.kind == "all_time":
            return "all time"
        start, end = self.bounds(today)
        last_day = end - ONE_DAY
        if self.kind == "previous" and self.n > 1:
            words = f"the last {self.n} {self.unit}s"
        elif self.unit == "day":
            words = "yesterday" if self.kind == "previous" else "today"
        else:
            words = f"{'last' if self.kind == 'previous' else 'this'} {self.unit}"
        if start == last_day:
            return f"{words} ({start.isoformat()})"
        return f"{words} ({start.isoformat()} to {last_day.isoformat()})"


ALL_TIME = Period("all_time")


def anchor_day(today: date, as_of: date | None) -> date:
    """The day periods count from: the real date, or the data's as-of date when the data
    ends earlier, so that "last month" never means a month with no data loaded yet."""
    return today if as_of is None else min(today, as_of)


def unit_start(day: date, unit: Unit) -> date:
    if unit == "day":
        return day
    if unit == "week":
        return day - timedelta(days=day.weekday())
    month = day.month - (day.month - 1) % _MONTHS_PER[unit]
    return date(day.year, month, 1)


def _shift(start: date, unit: Unit, n: int) -> date:
    """The start of the unit n units after the one starting at `start`."""
    if unit == "day":
        return start + timedelta(days=n)
    if unit == "week":
        return start + timedelta(weeks=n)
    months = start.year * 12 + start.month - 1 + n * _MONTHS_PER[unit]
    year, month0 = divmod(months, 12)
    return date(year, month0 + 1, 1)


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
        return (Period("previous", cast(Unit, rest[1]), n), 3) if n > 0 else None
    if word == "past" and rest and rest[0] in UNITS:
        return Period("previous", cast(Unit, rest[0])), 2
    if word in ("last", "this") and rest and rest[0] in UNITS and rest[0] != "day":
        kind: Kind = "previous" if word == "last" else "current"
        return Period(kind, cast(Unit, rest[0])), 2
    if word in UNITS and rest[:2] == ["to", "date"]:
        return Period("current", cast(Unit, word)), 3
    return None


# --- the partial current period of a series ----------------------------------------------


@dataclass(frozen=True)
class Partial:
    """The last bucket of a time series when the data does not cover all of it."""

    start: date
    unit: Unit
    as_of: date

    @property
    def label(self) -> str:
        """'2026-11-01 (through the 20th)', '2026-11-16 (through Nov 20)'."""
        return f"{self.start.isoformat()} ({self.through})"

    @property
    def name(self) -> str:
        """The bucket in words: 'Nov 2026', 'the week of 2026-11-16', 'Q4 2026', '2026'."""
        return bucket_name(self.start, self.unit)

    @property
    def through(self) -> str:
        if self.unit == "month":
            return f"through the {_ordinal(self.as_of.day)}"
        return f"through {self.as_of:%b} {self.as_of.day}"


def bucket_name(start: date, unit: Unit) -> str:
    if unit == "month":
        return f"{start:%b %Y}"
    if unit == "quarter":
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    if unit == "year":
        return str(start.year)
    if unit == "week":
        return f"the week of {start.isoformat()}"
    return start.isoformat()


def series_unit(values: Sequence[object], unit: Unit | None = None) -> Unit | None:
    """The calendar unit a column of bucket starts steps by (month, week, ...), or None
    when the values are not bucket starts in ascending order. Given `unit` (known from the
    query), a single bucket will do; otherwise the unit is read from two or more."""
    days = [as_day(v) for v in values]
    if not days or any(d is None for d in days) or (unit is None and len(days) < 2):
        return None
    dated = cast(list[date], days)
    if any(b <= a for a, b in itertools.pairwise(dated)):
        return None
    candidates = (unit,) if unit is not None else ("year", "quarter", "month", "week", "day")
    for candidate in candidates:
        if all(unit_start(d, cast(Unit, candidate)) == d for d in dated):
            return cast(Unit, candidate)
    return None


def partial_bucket(
    values: Sequence[object], as_of: date | None, unit: Unit | None = None
) -> Partial | None:
    """The series' last bucket when it runs past the as-of date (an incomplete week, month,
    quarter or year); None when the series is not calendar buckets or ends on whole ones.
    A day is never called partial: the as-of day is the last day with data."""
    unit = series_unit(values, unit)
    if as_of is None or unit is None or unit == "day":
        return None
    start = cast(date, as_day(values[-1]))
    end = _shift(start, unit, 1)
    return Partial(start, unit, as_of) if start <= as_of < end - ONE_DAY else None


def as_day(value: object) -> date | None:
    """A date, a midnight datetime or an ISO date string as a date; None for anything else."""
    if isinstance(value, datetime):
        midnight = value.hour == value.minute == value.second == value.microsecond == 0
        return value.date() if midnight else None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
