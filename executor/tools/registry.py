"""The agent's tool list: each module in TOOLS exposes `TOOL: Tool`, offered in that order."""

from __future__ import annotations

import importlib
from typing import Any

from aws_lambda_powertools import Logger

from executor.errors import UserFacingError
from executor.tools.base import Tool, ToolContext, ToolError, ToolInput
from executor.tools.bounded import ERROR_CHARS, cut, for_model

logger = Logger(service="databot")

TOOLS = ("describe_tables", "run_sql", "run_python", "make_chart", "export_results")

# What the person sees in the thread while a tool runs.
STAGES: dict[str, str] = {
    "describe_tables": "Reading the schema",
    "run_sql": "Running SQL",
    "run_python": "Running Python",
    "make_chart": "Drawing a chart",
    "export_results": "Saving the results",
}


def build_tools() -> list[Tool]:
    return [_load(name) for name in TOOLS]


def _load(name: str) -> Tool:
    tool = importlib.import_module(f"executor.tools.{name}").TOOL
    if not isinstance(tool, Tool) or tool.name != name:
        raise TypeError(f"executor.tools.{name}.TOOL must be a Tool named {name!r}")
    return tool


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
