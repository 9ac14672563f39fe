"""An Answer as plain terminal text: what `databot ask` and `make demo` print.

Sections in reading order: the answer, the SQL, the table preview (saying which rows it
shows), charts and files (local paths or links), any Python run, the date the data runs to,
and one line of usage. Standard library only.
"""

from __future__ import annotations

import textwrap

from bot.answer import BOLD, Answer, Table, Usage
from bot.table_text import format_table

INDENT = "  "


def render_answer(answer: Answer) -> str:
    # A terminal cannot show bold: **bold** and __bold__ print as plain words.
    parts = [BOLD.sub(r"\2", answer.text.strip()) or "(no answer text)"]
    for index, sql in enumerate(answer.sql, start=1):
        title = "SQL" if len(answer.sql) == 1 else f"SQL {index}"
        parts.append(_section(title, sql.strip()))
    if answer.table is not None:
        parts.append(_section(_table_title(answer.table), _table_text(answer.table)))
    for run in answer.code:
        parts.append(_section("Python", run.code.strip()))
        output = "\n".join(text for text in (run.output.strip(), run.error or "") if text)
        if output:
            parts.append(_section("Output", output))
    if answer.charts:
        lines = [f"{chart.title or 'Chart'}: {chart.url or chart.path}" for chart in answer.charts]
        parts.append(_section("Charts", "\n".join(lines)))
    if answer.artifacts:
        lines = [f"{name}: {where}" for name, where in answer.artifacts.items()]
        parts.append(_section("Files", "\n".join(lines)))
    if answer.as_of:
        parts.append(f"Data as of {answer.as_of}")
    parts += answer.notes
    parts.append(usage_line(answer.usage, verified=answer.verified))
    return "\n\n".join(parts) + "\n"


def usage_line(usage: Usage, *, verified: bool) -> str:
    source = "verified query" if verified else f"model {usage.model_id or '(none)'}"
    return (
        f"{source} · {usage.tokens_text()} · ${usage.cost_usd:.4f} · {usage.seconds:.2f} s"
    )


def _section(title: str, body: str) -> str:
    return f"{title}\n{textwrap.indent(body, INDENT)}"


def _table_title(table: Table) -> str:
    return f"Result ({table.caption()})"


def _table_text(table: Table) -> str:
    text = format_table(table.columns, table.rows) if table.columns else "(no columns)"
    return f"{text}\n\nFull result: {table.full_result}" if table.full_result else text
