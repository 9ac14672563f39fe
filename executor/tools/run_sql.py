"""run_sql: one read-only statement through the SQL guard and the warehouse.

The result is kept in the job's context as q1, q2, ... so charts, Python and exports can
use it; the model sees the columns, a preview of the rows (executor/preview.py chooses
which), the total row count and the time.
"""

from __future__ import annotations

from typing import Any

from executor.errors import UnsafeSQL, WarehouseError
from executor.preview import preview_table
from executor.row_limits import KEEP_ROWS, MODEL_ROWS
from executor.tools.base import SavedQuery, Tool, ToolContext, ToolError, ToolInput, ToolOutput
from executor.warehouse.guarded import run_guarded

SPEC: dict[str, Any] = {
    "name": "run_sql",
    "description": (
        "Run one read-only SQL statement (SELECT or WITH ... SELECT) on the warehouse. "
        f"Returns the columns, up to {MODEL_ROWS} rows (the latest of a time series, which "
        "the `preview` field names), the total row count, the elapsed "
        "time and the result's name (q1, q2, ...) for make_chart, run_python and "
        "export_results. Statements that change data are refused."
    ),
    "inputSchema": {
        "json": {
            "type": "object",
            "properties": {
                "sql": {"type": "string", "description": "One SELECT statement."},
            },
            "required": ["sql"],
        }
    },
}


def run_sql(context: ToolContext, tool_input: ToolInput) -> ToolOutput:
    sql = tool_input.get("sql")
    if not isinstance(sql, str) or not sql.strip():
        raise ToolError("`sql` must be a non-empty string holding one SELECT statement")
    try:
        result = run_guarded(context.warehouse, sql, max_rows=KEEP_ROWS)
    except UnsafeSQL as e:
        raise ToolError(f"refused by the SQL guard: {e}") from e
    except WarehouseError as e:
        raise ToolError(f"the database rejected the query: {e}") from e
    name = f"q{len(context.queries) + 1}"
    context.queries.append(SavedQuery(name=name, sql=sql, result=result))
    preview = preview_table(result, MODEL_ROWS)
    return {
        "name": name,
        "columns": preview.columns,
        "rows": preview.rows,
        "total_rows": result.total_rows,
        "rows_shown": len(preview.rows),
        "preview": preview.caption(),
        "elapsed_seconds": round(result.elapsed_s, 3),
    }


TOOL = Tool(spec=SPEC, run=run_sql, stage="Running SQL")
