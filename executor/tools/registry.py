"""The agent's tools, offered to the model in this order, and how one is called."""

from __future__ import annotations

from typing import Any

from bot.observability import service_logger
from executor.errors import UserFacingError
from executor.tools import describe_tables, export_results, make_chart, run_python, run_sql
from executor.tools.base import Tool, ToolContext, ToolError, ToolInput
from executor.tools.bounded import ERROR_CHARS, cut, for_model

logger = service_logger()

TOOLS: tuple[Tool, ...] = (
    describe_tables.TOOL,
    run_sql.TOOL,
    run_python.TOOL,
    make_chart.TOOL,
    export_results.TOOL,
)


def tool_config(tools: list[Tool]) -> dict[str, Any]:
    """The Converse `toolConfig` offering these tools."""
    return {"tools": [{"toolSpec": tool.spec} for tool in tools]}


def call_tool(
    tools: dict[str, Tool], context: ToolContext, tool_use: dict[str, Any]
) -> dict[str, Any]:
    """Run one `toolUse` block and return its `toolResult` block; never raises.

    Output goes back as a `json` block, data for the model to read, never as instructions,
    and within the caps of executor/tools/bounded.py, as do error messages.
    """
    name = tool_use["name"]
    result: dict[str, Any] = {"toolUseId": tool_use["toolUseId"]}
    try:
        tool = tools.get(name)
        if tool is None:
            raise ToolError(f"unknown tool {name!r}; tools are: {', '.join(tools)}")
        tool_input: ToolInput = tool_use.get("input") or {}
        if not isinstance(tool_input, dict):
            raise ToolError("the tool input must be a JSON object")
        output = tool.run(context, tool_input)
    except (ToolError, UserFacingError) as e:
        error = cut(str(e), ERROR_CHARS)
        return {"toolResult": {**result, "content": [{"text": error}], "status": "error"}}
    except Exception as e:
        logger.exception("job_id=<%s>, tool=<%s> | tool failed", context.job_id, name)
        message = f"the {name} tool failed unexpectedly ({type(e).__name__}); try another way"
        return {"toolResult": {**result, "content": [{"text": message}], "status": "error"}}
    return {"toolResult": {**result, "content": [{"json": for_model(output)}], "status": "success"}}
