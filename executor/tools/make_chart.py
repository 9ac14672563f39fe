"""make_chart: draw a saved query result (q1, q2, ...) as a PNG and attach it to the answer.

The PNG is stored as results/<job_id>/chart_<n>.png and kept on local disk for the upload
to Slack. It states the data's as-of date (the latest date in the tables the query read)
and marks a partial last period. A spec that does not fit the result comes back to the
model as a tool error saying why, so it can correct the spec.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from bot.observability import service_logger
from executor.assembly import store_chart
from executor.charts.plan import ChartError, ChartPlan, plan_chart
from executor.charts.spec import KINDS, ChartSpec
from executor.tools.base import Tool, ToolContext, ToolError, ToolInput, ToolOutput
from executor.warehouse.as_of import data_as_of

logger = service_logger()

_TEXT_FIELDS = ("query", "kind", "x", "y", "series", "title", "x_label", "y_label")

SPEC: dict[str, Any] = {
    "name": "make_chart",
    "description": (
        "Draw a chart from a query result that run_sql saved (q1, q2, ...) and attach it to "
        "the answer. Chart when it helps the reader: a trend over time (line or area), a "
        "comparison across categories (bar, or barh for long names or many categories), a "
        "distribution (histogram), a relation between two measures (scatter), shares of a "
        "whole with at most 6 parts (pie). Do not chart a single number. Aggregate in SQL "
        "first: one row per bar or point. Beyond 15 categories the chart keeps the 14 "
        "largest and sums the rest as Other."
    ),
    "inputSchema": {
        "json": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "Saved result to chart, e.g. q1."},
                "kind": {"type": "string", "enum": list(KINDS)},
                "x": {
                    "type": "string",
                    "description": "Column on the x axis (categories, dates or numbers); "
                    "for a histogram, the numeric column to count.",
                },
                "y": {
                    "type": "string",
                    "description": "Numeric column to plot. Leave out for a histogram.",
                },
                "series": {
                    "type": "string",
                    "description": "Optional column that splits the data into coloured series.",
                },
                "title": {"type": "string", "description": "Short title saying what it shows."},
                "x_label": {"type": "string", "description": "x axis label, with units."},
                "y_label": {"type": "string", "description": "y axis label, with units."},
            },
            "required": ["query", "kind", "x"],
        }
    },
}


def make_chart(context: ToolContext, tool_input: ToolInput) -> ToolOutput:
    fields = _text_fields(tool_input)
    saved = context.query_named(fields.pop("query") or "")
    spec = ChartSpec(
        kind=fields["kind"] or "",
        x=fields["x"] or "",
        y=fields["y"],
        series=fields["series"],
        title=fields["title"] or "",
        x_label=fields["x_label"],
        y_label=fields["y_label"],
    )
    result = saved.result
    as_of = data_as_of(context.warehouse, [saved.sql], date.today())
    try:
        plan = plan_chart(result.columns, result.rows, spec, as_of=as_of)
    except ChartError as e:
        raise ToolError(f"cannot chart {saved.name}: {e}") from e
    if _single_value(plan):
        raise ToolError(
            f"{saved.name} comes down to a single value: say it in the answer, a chart adds nothing"
        )
    if result.truncated:
        plan.notes.append(f"first {len(result.rows):,} of {result.total_rows:,} rows")
    name = f"chart_{len(context.charts) + 1}.png"
    context.charts.append(store_chart(context.artifacts, context.job_id, plan, spec, name))
    logger.info("job_id=<%s>, chart=<%s>, kind=<%s> | chart drawn", context.job_id, name, plan.kind)
    output: ToolOutput = {
        "chart": name,
        "title": plan.title,
        "kind": plan.kind,
        "spec": asdict(spec),
        "notes": plan.notes,
        # What the chart's subtitle says, for the answer to say too.
        "data_as_of": as_of.isoformat() if as_of else None,
    }
    if result.truncated:
        output["warning"] = (
            f"{saved.name} kept only {len(result.rows):,} of {result.total_rows:,} rows, so the "
            "chart shows part of the data; aggregate in SQL to chart all of it"
        )
    return output


def _single_value(plan: ChartPlan) -> bool:
    """One point, or one bar of one series: nothing to compare, no trend, no distribution."""
    grouped = plan.kind not in ("scatter", "histogram")
    return len(plan.data) == 1 and (not grouped or plan.data.shape[1] == 1)


def _text_fields(tool_input: ToolInput) -> dict[str, str | None]:
    fields: dict[str, str | None] = {}
    for key in _TEXT_FIELDS:
        value = tool_input.get(key)
        if value is not None and not isinstance(value, str):
            raise ToolError(f"`{key}` must be a string, not {type(value).__name__}")
        fields[key] = (value.strip() or None) if isinstance(value, str) else None
    missing = [key for key in SPEC["inputSchema"]["json"]["required"] if not fields[key]]
    if missing:
        raise ToolError(f"missing {', '.join(missing)}: give the saved query, the kind and x")
    unknown = sorted(set(tool_input) - set(_TEXT_FIELDS))
    if unknown:
        raise ToolError(f"unknown fields {', '.join(unknown)}; allowed: {', '.join(_TEXT_FIELDS)}")
    return fields


TOOL = Tool(spec=SPEC, run=make_chart, stage="Drawing a chart")
