"""describe_tables: list the warehouse's tables, or describe some of them column by column."""

from __future__ import annotations

from typing import Any

from executor.tools.base import Tool, ToolContext, ToolError, ToolInput, ToolOutput
from executor.tools.jsonable import jsonable
from executor.warehouse.base import TableInfo

SPEC: dict[str, Any] = {
    "name": "describe_tables",
    "description": (
        "Without arguments: list every table with its row count and description. "
        "With `tables`: describe those tables in detail: columns, types, descriptions and "
        "sample values of low-cardinality columns."
    ),
    "inputSchema": {
        "json": {
            "type": "object",
            "properties": {
                "tables": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "Table names to describe; omit to list all tables.",
                }
            },
        }
    },
}


def describe_tables(context: ToolContext, tool_input: ToolInput) -> ToolOutput:
    tables = context.tables()
    wanted = tool_input.get("tables")
    if not wanted:
        return {"tables": [_summary(table) for table in tables]}
    if not isinstance(wanted, list) or not all(isinstance(name, str) for name in wanted):
        raise ToolError("`tables` must be a list of table names")
    by_name = {_key(table.name): table for table in tables}
    by_name.update({_key(f"{t.schema}.{t.name}"): t for t in tables if t.schema})
    unknown = [name for name in wanted if _key(name) not in by_name]
    if unknown:
        known = ", ".join(table.name for table in tables)
        raise ToolError(f"unknown table(s) {', '.join(unknown)}; tables are: {known}")
    return {"tables": [describe(by_name[_key(name)]) for name in wanted]}


def describe(table: TableInfo) -> dict[str, Any]:
    """A table in full: what the prompt shows for each table and what the tool returns."""
    columns = []
    for column in table.columns:
        entry: dict[str, Any] = {"name": column.name, "type": column.type}
        if column.description:
            entry["description"] = column.description
        if column.samples:
            entry["sample_values"] = jsonable(column.samples)
        columns.append(entry)
    return {**_summary(table), "columns": columns}


def _summary(table: TableInfo) -> dict[str, Any]:
    summary: dict[str, Any] = {"name": table.name, "row_count": table.row_count}
    if table.schema:
        summary["schema"] = table.schema
    if table.description:
        summary["description"] = table.description
    return summary


def _key(name: str) -> str:
    return name.strip().strip('"').lower()


TOOL = Tool(spec=SPEC, run=describe_tables)
