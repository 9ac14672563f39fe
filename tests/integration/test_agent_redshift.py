"""The agent on the Redshift adapter: redshift-connector to PostgreSQL behind PgBouncer,
with the model's Converse calls answered by botocore's Stubber."""

from __future__ import annotations

from pathlib import Path

import pytest

from executor.agent import create_agent
from executor.artifacts import open_artifact_store
from executor.config import ArtifactsConfig, ModelConfig, SandboxConfig
from executor.engine import Request
from executor.warehouse.base import Warehouse
from tests.support.scripted_model import StubbedBedrock, answer_script, run_sql

pytestmark = pytest.mark.integration

REVENUE_SQL = (
    "SELECT DATE_TRUNC('month', occurred_at) AS month, SUM(revenue) AS revenue "
    "FROM interactions WHERE event_type = 'purchase' AND occurred_at >= '2026-09-01' "
    "GROUP BY 1 ORDER BY 1"
)


def test_the_agent_corrects_itself_on_redshift(
    bedrock_stub: StubbedBedrock, redshift_warehouse: Warehouse, tmp_path: Path,
) -> None:
    # GIVEN a model that first names a column that does not exist, then fixes the query
    bedrock_stub.play(
        run_sql("SELECT SUM(amount) FROM interactions WHERE event_type = 'purchase'"),
        *answer_script(REVENUE_SQL, "Revenue by month since September 2026."),
    )
    agent = create_agent(ModelConfig(), SandboxConfig(), redshift_warehouse,
                         open_artifact_store(ArtifactsConfig(results_dir=tmp_path)),
                         client=bedrock_stub.client)
    stages: list[str] = []
    # WHEN it answers on the Redshift adapter
    answer = agent.answer(Request(job_id="J-rs", question="Monthly revenue since September?",
                                  progress=stages.append))
    # THEN the prompt speaks Redshift, the database's error went back to the model ...
    first, second = bedrock_stub.requests[:2]
    assert "Amazon Redshift" in first["system"][0]["text"]
    error = second["messages"][-1]["content"][0]["toolResult"]
    assert error["status"] == "error"
    assert 'column "amount" does not exist' in error["content"][0]["text"]
    assert "Running SQL (2nd try)" in stages
    # ... and the fixed query's rows came back as JSON values: months as ISO text, revenue
    # (DECIMAL) as numbers matching the database's own sum; November, where the data ends,
    # is labelled partial (docs/periods.md)
    expected = redshift_warehouse.query(REVENUE_SQL, 10).rows
    assert answer.sql == [REVENUE_SQL]
    assert answer.table is not None
    whole = [[month.isoformat(), float(total)] for month, total in expected[:-1]]
    assert answer.table.rows[:-1] == whole
    assert answer.table.rows[-1][1] == float(expected[-1][1])
    assert [row[0][:7] for row in answer.table.rows] == ["2026-09", "2026-10", "2026-11"]
