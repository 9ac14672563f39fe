"""describe_tables: list the warehouse's tables, or describe some of them column by column.

`describe` is also what the system prompt shows of each table, so its caps are the
prompt's: names, types and descriptions on one line and cut to a size, at most
SAMPLE_VALUES sample values of SAMPLE_CHARS each (executor/warehouse/catalog.py).
"""

from __future__ import annotations

from typing import Any

from executor.jsonable import jsonable
from executor.tools.base import Tool, ToolContext, ToolError, ToolInput, ToolOutput
from executor.tools.bounded import one_line
from executor.warehouse.base import TableInfo
from executor.warehouse.catalog import SAMPLE_CHARS, SAMPLE_VALUES

# Longer than any sensible identifier, type or description; beyond, it is noise or worse.
NAME_CHARS = 128
TYPE_CHARS = 64
DESCRIPTION_CHARS = 400

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
    chosen = [by_name[_key(name)] for name in wanted]
    return {"tables": [describe(table) for table in context.warehouse.with_samples(chosen)]}


def describe(table: TableInfo) -> dict[str, Any]:
    """A table in full: what the prompt shows for each table and what the tool returns."""
    columns = []
    for column in table.columns:
        entry: dict[str, Any] = {
            "name": one_line(column.name, NAME_CHARS),
            "type": one_line(column.type, TYPE_CHARS),
        }
        if column.description:
            entry["description"] = one_line(column.description, DESCRIPTION_CHARS)
        if column.samples:
            entry["sample_values"] = [
                one_line(str(jsonable(value)), SAMPLE_CHARS)
                for value in column.samples[:SAMPLE_VALUES]
            ]
        columns.append(entry)
    return {**_summary(table), "columns": columns}


def _summary(table: TableInfo) -> dict[str, Any]:
    summary: dict[str, Any] = {"name": one_line(table.name, NAME_CHARS),
                               "row_count": table.row_count}
    if table.size_bytes is not None:
        summary["size_bytes"] = table.size_bytes
    if table.schema:
        summary["schema"] = one_line(table.schema, NAME_CHARS)
    if table.description:
        summary["description"] = one_line(table.description, DESCRIPTION_CHARS)
    return summary


def _key(name: str) -> str:
    return name.strip().strip('"').lower()


TOOL = Tool(spec=SPEC, run=describe_tables, stage="Reading the schema")
