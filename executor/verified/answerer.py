"""The offline engine: answers a question from the verified-query library, at zero model
cost, or raises NeedsModel with the closest questions it can answer now.

An answer runs the entry's SQL through the guarded path with the question's values bound
as parameters, and comes back like any other: text, SQL, table preview, the entry's chart,
the full result as CSV, the reproducible bundle, and `verified=True`. It states the data's
as-of date, counts periods back from it when the data ends before today, and never presents
a time series' partial last bucket as a whole one (docs/periods.md).
"""

from __future__ import annotations

import string
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

import sqlglot
from sqlglot import exp

from bot.answer import Answer, Chart, Usage
from bot.observability import service_logger
from executor.artifacts import ArtifactStore
from executor.artifacts.export import export_to_store
from executor.assembly import answer_table, as_of_text, store_chart, with_bundle
from executor.engine import Request
from executor.errors import NeedsModel
from executor.preview import partial_period, series_column
from executor.row_limits import VERIFIED_ROWS
from executor.verified.library import Entry
from executor.verified.live import LiveLibrary
from executor.verified.matcher import Match
from executor.verified.params import bind, describe
from executor.verified.periods import (
    UNITS,
    Partial,
    Unit,
    anchor_day,
    as_day,
    bucket_name,
    series_unit,
)
from executor.verified.transpile import to_dialect
from executor.verified.wording import country_name, sentence
from executor.warehouse.as_of import data_as_of
from executor.warehouse.base import QueryResult, Warehouse
from executor.warehouse.guarded import run_guarded
from executor.warehouse.params import with_literals

logger = service_logger()

SUGGESTIONS = 5


@dataclass(frozen=True)
class WorkedExample:
    question: str
    sql: str


class VerifiedEngine:
    def __init__(
        self,
        library: LiveLibrary,
        warehouse: Warehouse,
        artifacts: ArtifactStore,
        *,
        today: Callable[[], date] = date.today,
    ) -> None:
        # The static library plus the entries verified from chat, kept current.
        self.library = library
        self.warehouse = warehouse
        self.artifacts = artifacts
        self.today = today

    def answer(self, request: Request) -> Answer:
        match = self.library.matcher().match(request.question)
        if match is None:
            raise NeedsModel(self.suggestions(request.question))
        return self.answer_match(request, match)

    def examples(self, question: str) -> list[WorkedExample]:
        """The closest entries, in the warehouse's dialect, shown to the model as examples."""
        return [
            WorkedExample(entry.question, to_dialect(entry.sql, self.warehouse.dialect))
            for entry in self.library.matcher().closest(question)
        ]

    def answer_match(self, request: Request, match: Match) -> Answer:
        started = time.perf_counter()
        warehouse = request.warehouse or self.warehouse
        entry = match.entry
        logger.info(
            "job_id=<%s>, entry=<%s>, score=<%.3f> | answering from the verified library",
            request.job_id,
            entry.id,
            match.score,
        )
        request.progress("Running a verified query")
        sql = to_dialect(entry.sql, warehouse.dialect)
        real_today = self.today()
        as_of = data_as_of(warehouse, [sql], real_today)
        today = anchor_day(real_today, as_of)
        params = bind(entry, match.values, today)
        result = run_guarded(warehouse, sql, max_rows=VERIFIED_ROWS, params=params)
        filters = describe(entry, match.values, today)
        unit = _series_unit(entry)
        answer = Answer(
            text=_text(entry, result, filters, partial_period(result, as_of, unit), unit),
            sql=[with_literals(sql, params)],
            table=answer_table(result, as_of, unit),
            verified=True,
            as_of=as_of_text(as_of),
            entry_id=entry.id,
        )
        answer.charts = self._charts(request.job_id, entry, result, as_of)
        csv = export_to_store(
            warehouse, self.artifacts, request.job_id, sql, "result.csv", params=params
        ).link
        answer.artifacts = {"result.csv": csv}
        if answer.table is not None:
            answer.table.full_result = csv
        answer.usage = Usage(seconds=round(time.perf_counter() - started, 3))
        return with_bundle(self.artifacts, request.job_id, request.question, answer)

    def suggestions(self, question: str) -> list[str]:
        """The verified questions closest to `question`, so a person who asked something
        else sees what can be answered now; a spread over the library when none is close."""
        matcher = self.library.matcher()
        closest = matcher.closest(question, k=SUGGESTIONS)
        if closest:
            return [entry.question for entry in closest]
        entries = matcher.library.entries
        step = max(1, len(entries) // SUGGESTIONS)
        return [entry.question for entry in entries[::step][:SUGGESTIONS]]

    def _charts(
        self, job_id: str, entry: Entry, result: QueryResult, as_of: date | None
    ) -> list[Chart]:
        if entry.chart is None or not result.rows:
            return []
        from executor.charts.plan import ChartError, plan_chart

        spec = entry.chart
        try:
            plan = plan_chart(result.columns, result.rows, spec, as_of=as_of)
        except ChartError:
            # The numbers are still right: answer without the picture.
            logger.warning("job_id=<%s>, entry=<%s> | chart spec does not fit", job_id, entry.id)
            return []
        title = spec.title or entry.question
        return [store_chart(self.artifacts, job_id, plan, spec, "chart_1.png", title=title)]


def _text(
    entry: Entry, result: QueryResult, filters: str, partial: Partial | None, unit: Unit | None
) -> str:
    summary = _summary(entry, result, filters, partial, unit)
    return (
        f"{summary}\n\n"
        f"Verified answer (`{entry.id}`, checked by {entry.verified_by} on "
        f"{entry.verified_at.isoformat()}). {entry.explanation}"
    )


def _summary(
    entry: Entry, result: QueryResult, filters: str, partial: Partial | None, unit: Unit | None
) -> str:
    """The entry's template over the result. In a time series whose last bucket is partial,
    {last} is the latest whole bucket and the partial one follows as "so far"."""
    if not result.rows:
        return f"No rows matched{filters}."
    if entry.answer is None:
        return _rows(result.total_rows, filters)
    rows = result.rows[:-1] if partial is not None else result.rows
    so_far = _so_far(entry, result, partial)
    if not rows:
        return so_far
    first = _readable(dict(zip(result.columns, result.rows[0], strict=True)))
    last = _readable(dict(zip(result.columns, rows[-1], strict=True)))
    try:
        text = sentence(entry.answer.format(
            **first,
            first=first,
            last=last,
            last_period=_period_name(result, rows[-1], unit),
            filters=filters,
            rows=result.total_rows,
        ))
    except (KeyError, IndexError, TypeError, ValueError):
        # A NULL where the template formats a number, say: fall back to plain words.
        logger.warning("entry=<%s> | answer template did not fit the result", entry.id)
        return _rows(result.total_rows, filters)
    return f"{text} {so_far}" if so_far else text


def _so_far(entry: Entry, result: QueryResult, partial: Partial | None) -> str:
    """'Nov 2026 so far (through the 20th): 170.', in the template's number format."""
    if partial is None:
        return ""
    measure = entry.chart.y if entry.chart is not None else None
    name = partial.name[:1].upper() + partial.name[1:]
    if measure is None or measure not in result.columns:
        return f"{name} is partial ({partial.through})."
    value = result.rows[-1][result.columns.index(measure)]
    prefix, spec = _template_format(entry.answer or "", measure)
    try:
        shown = f"{prefix}{value:{spec}}"
    except (TypeError, ValueError):
        shown = str(value)
    return f"{name} so far ({partial.through}): {shown}."


def _template_format(template: str, column: str) -> tuple[str, str]:
    """How the template writes {last[column]}: its format spec, and a "$" just before it."""
    for literal, field, spec, _ in string.Formatter().parse(template):
        if field == f"last[{column}]":
            return ("$" if literal.endswith("$") else ""), spec or ""
    return "", ""


def _period_name(result: QueryResult, row: tuple[Any, ...], unit: Unit | None) -> str:
    """The row's time bucket in words ('Oct 2026'), or "" when the result is not a series."""
    index = series_column(result, unit)
    if index is None:
        return ""
    found = series_unit([r[index] for r in result.rows], unit)
    day = as_day(row[index])
    return bucket_name(day, found) if found is not None and day is not None else str(row[index])


def _series_unit(entry: Entry) -> Unit | None:
    """The calendar unit of the entry's charted x column, as its SQL truncates it:
    DATE_TRUNC('month', ...) is "month", a plain CAST(... AS DATE) is "day"."""
    if entry.chart is None:
        return None
    statement = sqlglot.parse_one(entry.sql, read="redshift")
    if not isinstance(statement, exp.Query):
        return None
    for projection in statement.selects:
        if projection.alias_or_name != entry.chart.x:
            continue
        trunc = projection.find(exp.DateTrunc, exp.TimestampTrunc)
        if trunc is not None:
            unit = trunc.text("unit").lower()
            return cast(Unit, unit) if unit in UNITS else None
        cast_node = projection.find(exp.Cast)
        if cast_node is not None and cast_node.to.is_type(exp.DataType.Type.DATE):
            return "day"
    return None


def _readable(row: dict[str, Any]) -> dict[str, Any]:
    """A result row with its country names as they read in a sentence."""
    return {name: country_name(value) if name == "country" else value
            for name, value in row.items()}


def _rows(count: int, filters: str) -> str:
    return f"{count:,} row{'' if count == 1 else 's'}{filters}."
