"""export_results: the whole result of a saved query (q1, q2, ...) or of a SELECT, as a
CSV or Parquet file in the job's artifacts, linked in the answer.

Runs through the SQL guard and streams (see executor.artifacts.export): the result is
never held in the worker's memory. Saved query qN becomes query_N.<format>; a statement
given directly becomes export_N.<format>.
"""

from __future__ import annotations

from typing import Any

from executor.artifacts.export import export_to_store
from executor.errors import UnsafeSQL, WarehouseError
from executor.tools.base import Tool, ToolContext, ToolError, ToolInput, ToolOutput

FORMATS = ("csv", "parquet")

SPEC: dict[str, Any] = {
    "name": "export_results",
    "description": (
        "Save the complete result of a query as a file (CSV, or Parquet for large results "
        "or typed data) and attach its link to the answer. Use it when the person asks for "
        "the data, a download or a list, or when a result has more rows than the answer "
        "shows. Give either `query` (a result run_sql saved: q1, q2, ...) or `sql` (one "
        "SELECT statement). Returns the file name and its row count; the link goes with "
        "the answer, do not write it out."
    ),
    "inputSchema": {
        "json": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "Saved result to export, e.g. q1."},
                "sql": {"type": "string", "description": "One SELECT statement to export."},
                "format": {"type": "string", "enum": list(FORMATS), "default": "csv"},
            },
        }
    },
}


def export_results(context: ToolContext, tool_input: ToolInput) -> ToolOutput:
    sql, name = _what_to_export(context, tool_input)
    try:
        exported = export_to_store(context.warehouse, context.artifacts, context.job_id, sql, name)
    except UnsafeSQL as e:
        raise ToolError(f"refused by the SQL guard: {e}") from e
    except WarehouseError as e:
        raise ToolError(f"the database rejected the export: {e}") from e
    context.links[exported.name] = exported.link
    return {
        "file": exported.name,
        "rows": exported.rows,
        "elapsed_seconds": round(exported.elapsed_s, 3),
    }


def _what_to_export(context: ToolContext, tool_input: ToolInput) -> tuple[str, str]:
    """The SQL to run and the artifact name to write it to."""
    file_format = tool_input.get("format") or "csv"
    if file_format not in FORMATS:
        raise ToolError(f"`format` must be one of {', '.join(FORMATS)}, not {file_format!r}")
    query, sql = tool_input.get("query"), tool_input.get("sql")
    if bool(query) == bool(sql):
        raise ToolError("give exactly one of `query` (a saved result such as q1) or `sql`")
    if query:
        if not isinstance(query, str):
            raise ToolError("`query` must be the name of a saved result, such as q1")
        saved = context.query_named(query)
        number = context.queries.index(saved) + 1
        return saved.sql, f"query_{number}.{file_format}"
    if not isinstance(sql, str) or not sql.strip():
        raise ToolError("`sql` must be a non-empty string holding one SELECT statement")
    number = sum(1 for name in context.links if name.startswith("export_")) + 1
    return sql, f"export_{number}.{file_format}"


TOOL = Tool(spec=SPEC, run=export_results, stage="Saving the results")
