"""The agent's tools on the sample data in DuckDB: describe_tables, run_sql, the registry."""

from __future__ import annotations

from typing import Any

import pytest

from executor.row_limits import MODEL_ROWS
from executor.tools import registry
from executor.tools.base import Tool, ToolContext, ToolError
from executor.tools.describe_tables import describe_tables
from executor.tools.run_sql import run_sql


def test_describe_tables_lists_every_table_with_its_size(tool_context: ToolContext) -> None:
    listed = describe_tables(tool_context, {})["tables"]
    assert {t["name"] for t in listed} == {"users", "interactions"}
    users = next(t for t in listed if t["name"] == "users")
    count = tool_context.warehouse.query("SELECT COUNT(*) FROM users", 1).rows[0][0]
    assert users["row_count"] == count
    assert "columns" not in users


def test_describe_tables_details_columns_types_and_samples(tool_context: ToolContext) -> None:
    (users,) = describe_tables(tool_context, {"tables": ["USERS"]})["tables"]
    columns = {c["name"]: c for c in users["columns"]}
    assert set(columns) >= {"user_id", "signup_date", "plan", "churned_at"}
    assert "DATE" in columns["signup_date"]["type"].upper()
    assert set(columns["plan"].get("sample_values", [])) <= {"free", "pro", "enterprise"}
    assert columns["plan"]["description"]


def test_describe_tables_names_the_unknown_table_and_the_known_ones(
    tool_context: ToolContext,
) -> None:
    with pytest.raises(ToolError, match=r"unknown table\(s\) orders; tables are: .*users"):
        describe_tables(tool_context, {"tables": ["users", "orders"]})
    with pytest.raises(ToolError, match="must be a list"):
        describe_tables(tool_context, {"tables": "users"})


def test_run_sql_saves_each_result_by_name_and_shows_the_first_rows(
    tool_context: ToolContext,
) -> None:
    first = run_sql(tool_context, {"sql": "SELECT plan, COUNT(*) AS n FROM users GROUP BY plan"})
    second = run_sql(tool_context,
                     {"sql": "SELECT user_id, signup_date FROM users ORDER BY user_id"})
    assert (first["name"], second["name"]) == ("q1", "q2")
    assert [q.name for q in tool_context.queries] == ["q1", "q2"]
    assert first["columns"] == ["plan", "n"]
    assert sum(row[1] for row in first["rows"]) == second["total_rows"]
    # the model sees a page of rows; the context keeps more for charts and Python
    assert second["rows_shown"] == len(second["rows"]) == MODEL_ROWS
    assert second["rows"][0] == [1, "2024-01-01"]
    assert len(tool_context.queries[1].result.rows) > MODEL_ROWS
    assert second["elapsed_seconds"] >= 0


@pytest.mark.parametrize(("sql", "message"), [
    ("DELETE FROM users", "refused by the SQL guard"),
    ("SELECT no_such_column FROM users", "the database rejected the query: .*no_such_column"),
    ("", "must be a non-empty string"),
])
def test_run_sql_failures_are_tool_errors_and_save_nothing(
    tool_context: ToolContext, sql: str, message: str,
) -> None:
    with pytest.raises(ToolError, match=message):
        run_sql(tool_context, {"sql": sql})
    assert tool_context.queries == []


def test_the_registry_offers_every_tool_with_a_stage() -> None:
    names = [tool.name for tool in registry.TOOLS]
    assert names == [
        "describe_tables", "run_sql", "run_python", "make_chart", "export_results",
    ]  # fmt: skip
    assert all(tool.stage for tool in registry.TOOLS)


def _tool(run: Any) -> dict[str, Tool]:
    spec = {"name": "flaky", "inputSchema": {"json": {}}}
    return {"flaky": Tool(spec=spec, run=run, stage="Trying")}


def test_a_tool_that_crashes_becomes_an_error_result(tool_context: ToolContext) -> None:
    def crash(context: ToolContext, tool_input: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("secret-ish internals")

    block = registry.call_tool(_tool(crash), tool_context,
                               {"toolUseId": "t1", "name": "flaky", "input": {}})
    result = block["toolResult"]
    assert result["status"] == "error"
    assert result["content"] == [
        {"text": "the flaky tool failed unexpectedly (RuntimeError); try another way"}
    ]


def test_unknown_tools_and_bad_input_are_error_results(tool_context: ToolContext) -> None:
    def echo(context: ToolContext, tool_input: dict[str, Any]) -> dict[str, Any]:
        return tool_input

    unknown = registry.call_tool(_tool(echo), tool_context,
                                 {"toolUseId": "t1", "name": "drop_tables", "input": {}})
    assert unknown["toolResult"]["content"][0]["text"] == (
        "unknown tool 'drop_tables'; tools are: flaky"
    )
    bad = registry.call_tool(_tool(echo), tool_context,
                             {"toolUseId": "t2", "name": "flaky", "input": ["x"]})
    assert bad["toolResult"]["status"] == "error"
