"""The verified entry an agent answer proposes, for a reviewer to check and submit.

The worker attaches it to every agent answer (`Answer.proposal`) so that verifying takes
no typing: the question in canonical wording, a name made from it, the last statement
the agent ran written for the library (Redshift) with the values the question gave made
into parameters, those parameters, and a one-line definition. The values are found by
the library's own question parser (a country, a period, a top-N), so the entry takes
other countries and periods exactly as library entries do. A value whose literal the SQL
does not hold as written is left out: the reviewer sees the SQL as run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlglot
from sqlglot import exp

from bot.answer import Answer
from bot.review import Proposal, ReviewParam, entry_name
from executor.verified.matcher import Matcher
from executor.verified.periods import Period, anchor_day
from executor.verified.text import Slot
from executor.verified.transpile import SOURCE_DIALECT

PERIOD = "period"
TOP = "top"


@dataclass(frozen=True)
class _Found:
    param: ReviewParam
    # String literals → the placeholder each becomes; a LIMIT → the top-N placeholder.
    literals: dict[str, str]
    limit: int | None = None


def propose(
    matcher: Matcher, question: str, answer: Answer, *, dialect: str, today: date
) -> Proposal:
    """The proposal for `answer` to `question`, run on a warehouse speaking `dialect`."""
    canonical = _canonical(question)
    if not answer.sql:
        return Proposal.default(canonical, [])
    as_of = date.fromisoformat(answer.as_of) if answer.as_of else None
    found = [f for slot in matcher.parse(question).slots
             if (f := _found(slot, matcher, anchor_day(today, as_of))) is not None]
    try:
        sql, params = _parametrized(answer.sql[-1], dialect, found)
    except sqlglot.errors.SqlglotError:
        return Proposal.default(canonical, answer.sql)
    return Proposal(
        question=canonical,
        name=entry_name(canonical),
        sql=sql,
        params=params,
        definition=_definition(canonical, sql),
    )


def period_words(period: Period) -> str:
    """The period as the library's `default:` writes one: 'last 3 months', 'this year'."""
    if period.kind == "all_time":
        return "all time"
    if period.kind == "current":
        return "today" if period.unit == "day" else f"this {period.unit}"
    if period.n > 1:
        return f"last {period.n} {period.unit}s"
    return "yesterday" if period.unit == "day" else f"last {period.unit}"


def _found(slot: Slot, matcher: Matcher, today: date) -> _Found | None:
    if slot.kind == PERIOD:
        start, end = slot.value.bounds(today)
        return _Found(ReviewParam(PERIOD, "period", period_words(slot.value)),
                      {start.isoformat(): "start_date", end.isoformat(): "end_date"})
    if slot.kind == TOP:
        return _Found(ReviewParam("n", "int", str(slot.value), TOP), {}, limit=slot.value)
    if slot.kind in matcher.library.vocabulary.values:
        return _Found(ReviewParam(slot.kind, "enum", str(slot.value), slot.kind),
                      {str(slot.value): slot.kind})
    return None


def _parametrized(
    sql: str, dialect: str, found: list[_Found]
) -> tuple[str, tuple[ReviewParam, ...]]:
    """The statement in Redshift with each found value as its placeholder, and the
    parameters whose every placeholder made it in (a period whose start is in the SQL but
    not its end keeps its literal dates)."""
    tree = sqlglot.parse_one(sql, read=dialect)
    written, placed = _substituted(tree, found)
    kept = [f for f in found if set(_bind_names(f.param)) <= placed]
    if len(kept) < len(found):
        written, _ = _substituted(tree, kept)
    return written.sql(dialect=SOURCE_DIALECT, pretty=True), tuple(f.param for f in kept)


def _substituted(tree: exp.Expr, found: list[_Found]) -> tuple[exp.Expr, set[str]]:
    """A copy of `tree` with the found literals as placeholders, and their names."""
    literals = {text: name for f in found for text, name in f.literals.items()}
    limits = {f.limit: f.param.name for f in found if f.limit is not None}
    placed: set[str] = set()

    def replace(node: exp.Expr) -> exp.Expr:
        name = None
        if isinstance(node, exp.Literal) and node.is_string:
            name = literals.get(node.this)
        elif isinstance(node, exp.Literal) and isinstance(node.parent, exp.Limit):
            name = limits.get(int(node.this)) if node.this.isdigit() else None
        if name is None:
            return node
        placed.add(name)
        # Written as the library writes parameters, `:name`, in any dialect.
        return exp.var(f":{name}")

    return tree.transform(replace), placed


def _bind_names(param: ReviewParam) -> tuple[str, ...]:
    return ("start_date", "end_date") if param.kind == "period" else (param.name,)


def _canonical(question: str) -> str:
    text = " ".join(question.split())
    return text[:1].upper() + text[1:]


def _definition(question: str, sql: str) -> str:
    tables = sorted({t.name for t in sqlglot.parse_one(sql, read=SOURCE_DIALECT)
                     .find_all(exp.Table)})
    source = f" over {' and '.join(tables)}" if tables else ""
    return f"The SQL below{source}, answering: {question}"
