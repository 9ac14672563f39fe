"""The run_python tool on the sample data in DuckDB, with the local sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Env
from executor.config import EngineConfig
from executor.governance.audited import AuditedWarehouse
from executor.row_limits import KEEP_ROWS
from executor.sandbox import Limits, open_sandbox
from executor.sandbox.local import LocalSandbox
from executor.tools import registry
from executor.tools.base import ToolContext, ToolError
from executor.tools.run_python import TOOL, run_python
from executor.tools.run_sql import run_sql
from tests.support.audit import MemoryAuditStore, memory_trail
from tests.support.sandbox import ACCEPTANCE, DIVIDE_BY_ZERO


@pytest.mark.parametrize("question", list(ACCEPTANCE))
def test_calculations_show_code_and_output(tool_context: ToolContext, question: str) -> None:
    code, expected = ACCEPTANCE[question]
    reply = run_python(tool_context, {"code": code})
    assert reply["stdout"].strip() == expected
    (ran,) = tool_context.code
    assert ran.code == code and ran.output.strip() == expected and ran.error is None


def test_a_failure_goes_back_to_the_model_with_the_traceback(tool_context: ToolContext) -> None:
    with pytest.raises(ToolError) as raised:
        run_python(tool_context, {"code": DIVIDE_BY_ZERO})
    message = str(raised.value)
    assert "ZeroDivisionError: division by zero" in message
    assert 'File "main.py", line 1' in message
    (ran,) = tool_context.code
    assert ran.error is not None and "division by zero" in ran.error


def test_through_the_registry_a_failure_is_an_error_result(tool_context: ToolContext) -> None:
    tools = {TOOL.name: TOOL}
    failed = registry.call_tool(
        tools,
        tool_context,
        {"toolUseId": "t1", "name": "run_python", "input": {"code": DIVIDE_BY_ZERO}},
    )["toolResult"]
    assert failed["status"] == "error"
    assert "division by zero" in failed["content"][0]["text"]
    worked = registry.call_tool(
        tools,
        tool_context,
        {"toolUseId": "t2", "name": "run_python", "input": {"code": "result = 2 ** 10"}},
    )["toolResult"]
    assert worked["status"] == "success"
    assert worked["content"][0]["json"]["result"] == 1024


def test_the_registry_offers_run_python() -> None:
    assert "run_python" in {tool.name for tool in registry.TOOLS}


def test_saved_queries_load_by_name(tool_context: ToolContext) -> None:
    run_sql(tool_context, {"sql": "SELECT plan, COUNT(*) AS users FROM users GROUP BY plan"})
    total = tool_context.warehouse.query("SELECT COUNT(*) FROM users", 1).rows[0][0]
    reply = run_python(
        tool_context, {"code": "result = int(load('q1')['users'].sum())", "inputs": ["q1"]}
    )
    assert reply["result"] == total


def test_a_result_cut_short_is_handed_over_whole(tool_context: ToolContext) -> None:
    run_sql(tool_context, {"sql": "SELECT interaction_id, revenue FROM interactions"})
    saved = tool_context.queries[0]
    assert saved.result.truncated and len(saved.result.rows) == KEEP_ROWS
    stages: list[str] = []
    tool_context.progress = stages.append
    code = "df = load('q1')\nresult = [len(df), str(df['revenue'].dtype)]"
    reply = run_python(tool_context, {"code": code})
    assert reply["result"] == [saved.result.total_rows, "float64"]
    assert stages == [f"Fetching all {saved.result.total_rows:,} rows of q1"]


def test_unknown_input_and_bad_arguments_are_tool_errors(tool_context: ToolContext) -> None:
    with pytest.raises(ToolError, match="no query named 'q7'"):
        run_python(tool_context, {"code": "pass", "inputs": ["q7"]})
    with pytest.raises(ToolError, match="`code` must be a non-empty string"):
        run_python(tool_context, {"code": "  "})
    with pytest.raises(ToolError, match="`inputs` must be a list"):
        run_python(tool_context, {"code": "pass", "inputs": "q1"})
    assert tool_context.code == []


def test_inputs_over_the_limit_are_refused(tool_context: ToolContext) -> None:
    tool_context.sandbox = LocalSandbox(Limits(input_bytes=100))
    run_sql(tool_context, {"sql": "SELECT * FROM users"})
    with pytest.raises(ToolError, match="more than 100 bytes of Parquet"):
        run_python(tool_context, {"code": "pass"})


def test_figures_become_charts_and_out_files_links(tool_context: ToolContext) -> None:
    code = (
        "import matplotlib.pyplot as plt\n"
        "plt.bar(['a', 'b'], [3, 5])\nplt.title('Two bars')\n"
        "(OUT / 'summary.txt').write_text('a=3 b=5')\n"
    )
    reply = run_python(tool_context, {"code": code})
    (chart,) = tool_context.charts
    assert chart.title == "Two bars"
    assert Path(chart.path).read_bytes().startswith(b"\x89PNG")
    assert chart.url is not None and Path(chart.url).exists()
    assert reply["files"] == {"summary.txt": "summary.txt"}
    assert Path(tool_context.links["summary.txt"]).read_text() == "a=3 b=5"


def test_the_configured_backend_and_limits_apply(
    tool_context: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the sandbox the configured settings (here from the environment) give
    monkeypatch.setenv("SANDBOX_WALL_SECONDS", "1")
    tool_context.sandbox = open_sandbox(EngineConfig.from_env(Env()).sandbox)
    with pytest.raises(ToolError, match="1-second time limit"):
        run_python(tool_context, {"code": "import time\ntime.sleep(30)"})


def test_without_a_sandbox_python_is_refused_with_the_reason(
    tool_context: ToolContext,
) -> None:
    tool_context.sandbox = None
    with pytest.raises(ToolError, match="no sandbox is configured"):
        run_python(tool_context, {"code": "print(1)"})
    assert tool_context.code == []


def test_the_whole_result_python_loads_is_an_export_in_the_audit_trail(
    tool_context: ToolContext,
) -> None:
    # GIVEN the tools on a warehouse that records its statements
    store = MemoryAuditStore()
    trail = memory_trail(store)
    tool_context.warehouse = AuditedWarehouse(tool_context.warehouse, trail, job_id="J1",
                                              asker=None)
    # WHEN a result cut short is loaded whole into Python
    run_sql(tool_context, {"sql": "SELECT interaction_id, revenue FROM interactions"})
    run_python(tool_context, {"code": "result = len(load('q1'))"})
    trail.flush()
    # THEN the preview, its count and the whole export are each recorded
    total = tool_context.queries[0].result.total_rows
    assert [(r["action"], r["rows"]) for r in store.records] == [
        ("query", KEEP_ROWS + 1), ("query", 1), ("export", total)]
