"""make_chart: charts a saved query from the sample warehouse, stores chart_<n>.png, attaches
it to the answer, and hands bad specs back to the model as tool errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws
from PIL import Image

from executor.artifacts import LocalArtifactStore
from executor.artifacts.s3 import S3ArtifactStore, s3_client
from executor.charts.draw import HEIGHT_PX, WIDTH_PX
from executor.charts.spec import KINDS
from executor.tools import make_chart, run_sql
from executor.tools.base import SavedQuery, ToolContext
from executor.tools.registry import call_tool
from executor.warehouse.base import QueryResult, Warehouse

JOB = "Ev0CHART01"
TOOLS = {tool.name: tool for tool in (run_sql.TOOL, make_chart.TOOL)}


@pytest.fixture
def context(sample_warehouse: Warehouse, tmp_path: Path) -> ToolContext:
    return ToolContext(
        job_id=JOB,
        warehouse=sample_warehouse,
        artifacts=LocalArtifactStore(tmp_path / "results"),
        progress=lambda stage: None,
    )


def use(context: ToolContext, name: str, **tool_input: Any) -> dict[str, Any]:
    """Call a tool the way the agent loop does; return the toolResult block."""
    block = call_tool(TOOLS, context, {"toolUseId": "t1", "name": name, "input": tool_input})
    return dict(block["toolResult"])


def output(result: dict[str, Any]) -> dict[str, Any]:
    assert result["status"] == "success", result
    return dict(result["content"][0]["json"])


def error(result: dict[str, Any]) -> str:
    assert result["status"] == "error", result
    return str(result["content"][0]["text"])


def test_charts_a_saved_query_and_attaches_the_png(context: ToolContext, tmp_path: Path) -> None:
    # GIVEN a query the model ran
    ran = use(context, "run_sql", sql="SELECT plan, count(*) AS users FROM users GROUP BY 1")
    assert output(ran)["name"] == "q1"
    # WHEN it asks for a chart of it
    reply = output(use(context, "make_chart", query="q1", kind="bar", x="plan", y="users"))
    # THEN the chart is drawn, stored under the job, and attached to the answer
    assert reply["chart"] == "chart_1.png"
    assert reply["kind"] == "bar" and reply["title"] == "Users by plan"
    assert reply["spec"]["x"] == "plan" and reply["notes"] == []
    (chart,) = context.charts
    stored = tmp_path / "results" / JOB / "chart_1.png"
    assert chart.url == str(stored)
    assert Path(chart.path).read_bytes() == stored.read_bytes()
    with Image.open(stored) as image:
        assert (image.format, image.size) == ("PNG", (WIDTH_PX, HEIGHT_PX))


def test_each_chart_gets_the_next_number(context: ToolContext) -> None:
    use(context, "run_sql", sql="SELECT age FROM users")
    use(context, "run_sql", sql="SELECT device, count(*) AS n FROM interactions GROUP BY 1")
    output(use(context, "make_chart", query="q1", kind="histogram", x="age"))
    second = output(use(context, "make_chart", query="q2", kind="pie", x="device", y="n"))
    assert second["chart"] == "chart_2.png"
    assert [Path(c.path).name for c in context.charts] == ["chart_1.png", "chart_2.png"]


def test_a_pie_with_too_many_parts_comes_back_as_bars_with_a_note(context: ToolContext) -> None:
    use(context, "run_sql", sql="SELECT country, count(*) AS users FROM users GROUP BY 1")
    reply = output(use(context, "make_chart", query="q1", kind="pie", x="country", y="users"))
    assert reply["kind"] == "barh"
    assert reply["notes"] == ["10 parts are too many for a pie; drawn as bars"]


def test_a_partial_result_is_charted_with_a_warning(context: ToolContext) -> None:
    partial = QueryResult(
        columns=["day", "n"], rows=[(f"d{i}", i) for i in range(5)], total_rows=500, elapsed_s=0.1
    )
    context.queries.append(SavedQuery(name="q1", sql="SELECT ...", result=partial))
    reply = output(use(context, "make_chart", query="q1", kind="line", x="day", y="n"))
    assert "first 5 of 500 rows" in reply["notes"]
    assert "aggregate in SQL" in reply["warning"]


def test_stores_the_chart_in_s3_under_the_job(sample_warehouse: Warehouse, tmp_path: Path) -> None:
    with mock_aws():
        client = s3_client("us-east-1")
        client.create_bucket(Bucket="databot-results")
        context = ToolContext(
            job_id=JOB,
            warehouse=sample_warehouse,
            artifacts=S3ArtifactStore("databot-results", client=client),
            progress=lambda stage: None,
        )
        use(context, "run_sql", sql="SELECT gender, avg(age) AS avg_age FROM users GROUP BY 1")
        output(use(context, "make_chart", query="q1", kind="barh", x="gender", y="avg_age"))
        body = client.get_object(Bucket="databot-results", Key=f"results/{JOB}/chart_1.png")
        assert body["ContentType"] == "image/png"
        assert body["Body"].read() == Path(context.charts[0].path).read_bytes()
        assert context.charts[0].url and "X-Amz-Signature" in context.charts[0].url


@pytest.mark.parametrize(
    ("tool_input", "reason"),
    [
        ({"query": "q9", "kind": "bar", "x": "plan", "y": "users"}, "no query named 'q9'"),
        (
            {"query": "q1", "kind": "bar", "x": "planet", "y": "users"},
            "cannot chart q1: unknown column 'planet' for x; the query's columns are: plan, users",
        ),
        ({"query": "q1", "kind": "bar", "x": "users", "y": "plan"}, "holds text"),
        ({"query": "q1", "kind": "donut", "x": "plan", "y": "users"}, "unknown chart kind"),
        ({"query": "q1", "x": "plan", "y": "users"}, "missing kind"),
        ({"query": "q1", "kind": "bar", "x": ["plan"], "y": "users"}, "`x` must be a string"),
        ({"query": "q1", "kind": "bar", "x": "plan", "colour": "red"}, "unknown fields colour"),
    ],
)
def test_bad_specs_come_back_as_tool_errors(
    context: ToolContext, tool_input: dict[str, Any], reason: str
) -> None:
    use(context, "run_sql", sql="SELECT plan, count(*) AS users FROM users GROUP BY 1")
    message = error(use(context, "make_chart", **tool_input))
    assert reason in message
    assert context.charts == []


def test_a_single_number_is_not_charted(context: ToolContext) -> None:
    use(context, "run_sql", sql="SELECT count(*) AS users FROM users")
    histogram = use(context, "make_chart", query="q1", kind="histogram", x="users")
    assert "single value" in error(histogram)
    use(context, "run_sql", sql="SELECT 'all' AS plan, count(*) AS users FROM users")
    bar = use(context, "make_chart", query="q2", kind="bar", x="plan", y="users")
    assert "single value" in error(bar)
    assert context.charts == []


def test_an_empty_result_is_a_tool_error(context: ToolContext, tmp_path: Path) -> None:
    use(context, "run_sql", sql="SELECT plan, count(*) AS n FROM users WHERE age > 500 GROUP BY 1")
    message = error(use(context, "make_chart", query="q1", kind="bar", x="plan", y="n"))
    assert message == "cannot chart q1: the query returned no rows, so there is nothing to chart"
    assert not (tmp_path / "results" / JOB).exists()


def test_the_spec_offers_every_kind_and_requires_the_essentials() -> None:
    schema = make_chart.SPEC["inputSchema"]["json"]
    assert schema["properties"]["kind"]["enum"] == list(KINDS)
    assert schema["required"] == ["query", "kind", "x"]
    assert set(schema["properties"]) == set(make_chart._TEXT_FIELDS)


def test_scratch_files_stay_inside_the_job_folder(context: ToolContext) -> None:
    # Charts are drawn in the store's scratch folder for the job, checked like artifact keys.
    assert context.artifacts.scratch_dir("Ev0CHART01").name == "Ev0CHART01"
    with pytest.raises(ValueError, match="not allowed"):
        context.artifacts.scratch_dir("../../etc")
