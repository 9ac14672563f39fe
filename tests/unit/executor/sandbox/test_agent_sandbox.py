"""The sandbox through the agent: a scripted model asks for run_python (and run_sql for
the machine-learning case) on the sample data, and the code and its output reach the answer."""

from __future__ import annotations

import io
import pickle
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from executor.agent import create_agent
from executor.artifacts import ArtifactStore, open_artifact_store
from executor.config import ArtifactsConfig, ModelConfig, SandboxConfig
from executor.engine import Request
from executor.sandbox import open_sandbox
from executor.warehouse.base import Warehouse
from tests.support.sandbox import ACCEPTANCE, DIVIDE_BY_ZERO, ML_FEATURES_SQL, ML_TRAIN_CODE
from tests.support.scripted_model import ScriptedModel, calls, run_sql, says, tool_use


@pytest.fixture
def artifacts(tmp_path: Path) -> ArtifactStore:
    return open_artifact_store(ArtifactsConfig(results_dir=tmp_path / "results"))


def ask(model: ScriptedModel, warehouse: Warehouse, artifacts: ArtifactStore, question: str) -> Any:
    agent = create_agent(ModelConfig(), SandboxConfig(), warehouse, artifacts, client=model)
    return agent.answer(Request(job_id="J1", question=question))


def last_tool_result(model: ScriptedModel, call: int) -> dict[str, Any]:
    (block,) = [
        b["toolResult"]
        for b in model.requests[call]["messages"][-1]["content"]
        if "toolResult" in b
    ]
    return block


@pytest.mark.parametrize("question", list(ACCEPTANCE))
def test_calculations_through_the_agent(
    question: str, sample_warehouse: Warehouse, artifacts: ArtifactStore
) -> None:
    code, expected = ACCEPTANCE[question]
    # GIVEN a model that writes the code, then answers from its output
    model = ScriptedModel(
        [calls(tool_use("run_python", {"code": code})), says(f"The answer is {expected}.")]
    )
    answer = ask(model, sample_warehouse, artifacts, question)
    # THEN the model was shown the real output, and the answer carries code and output
    result = last_tool_result(model, 1)
    assert result["status"] == "success"
    assert result["content"][0]["json"]["stdout"].strip() == expected
    (ran,) = answer.code
    assert ran.code == code and ran.output.strip() == expected and ran.error is None


def test_division_by_zero_reaches_the_model_as_an_error(
    sample_warehouse: Warehouse, artifacts: ArtifactStore
) -> None:
    model = ScriptedModel(
        [
            calls(tool_use("run_python", {"code": DIVIDE_BY_ZERO})),
            says("10 divided by 0 is undefined: division by zero."),
        ]
    )
    answer = ask(model, sample_warehouse, artifacts, "Divide 10 by 0")
    result = last_tool_result(model, 1)
    assert result["status"] == "error"
    assert "ZeroDivisionError: division by zero" in result["content"][0]["text"]
    (ran,) = answer.code
    assert ran.error is not None and "division by zero" in ran.error
    assert answer.text == "10 divided by 0 is undefined: division by zero."


@pytest.mark.slow
def test_machine_learning_model_from_the_interactions_table(
    sample_warehouse: Warehouse, artifacts: ArtifactStore
) -> None:
    # GIVEN a model that queries per-user features, trains in the sandbox and reports
    text = "I trained a churn model; see the metrics and report."
    model = ScriptedModel(
        [
            run_sql(ML_FEATURES_SQL),
            calls(tool_use("run_python", {"code": ML_TRAIN_CODE, "inputs": ["q1"]})),
            says(text),
            says(text),
        ]
    )
    answer = ask(
        model,
        sample_warehouse,
        artifacts,
        "Make a machine-learning model from the interactions table",
    )
    # THEN it scored every user still there on the cutoff date, ranks churners better than
    # the baseline without any feature that gives the label away, and the model was shown
    # the same metrics that are in the stored report
    metrics = last_tool_result(model, 2)["content"][0]["json"]["result"]
    eligible = sample_warehouse.query(f"SELECT COUNT(*) FROM ({ML_FEATURES_SQL}) f", 1).rows[0][0]
    assert metrics["train_rows"] + metrics["test_rows"] == eligible
    assert metrics["baseline_roc_auc"] == 0.5
    assert metrics["roc_auc"] > 0.6 and metrics["accuracy"] >= metrics["baseline_accuracy"]
    assert metrics["leakage_suspects"] == [] and metrics["strongest_single_feature_auc"] < 0.95
    # The model and report from out/, beside the reproducible bundle of the SQL it ran
    # and the whole feature table (its preview shows only the first rows).
    assert set(answer.artifacts) == {"churn_model.joblib", "report.md", "answer.json",
                                     "query_1.sql", "query_1.csv"}
    report = Path(answer.artifacts["report.md"]).read_text()
    assert (
        f"ROC AUC {metrics['roc_auc']:.3f} (majority-class baseline "
        f"{metrics['baseline_roc_auc']:.3f})" in report
    )
    assert "Leakage check: features are known on the cutoff date" in report
    # AND the answer shows the SQL, the code and its output
    assert answer.sql == [ML_FEATURES_SQL]
    (ran,) = answer.code
    assert ran.code == ML_TRAIN_CODE
    assert f"Top features: {metrics['top_features'][0]}" in ran.output
    # AND the model file is a pickle; it is not unpickled here (that would run its code)
    saved = Path(answer.artifacts["churn_model.joblib"]).read_bytes()
    assert saved[:1] == b"\x80" and saved[1] <= pickle.HIGHEST_PROTOCOL


def test_the_churn_example_does_not_depend_on_row_order(sample_warehouse: Warehouse) -> None:
    # GIVEN the example's features, once in the warehouse's order and once shuffled
    result = sample_warehouse.query(ML_FEATURES_SQL, 10_000)
    table = pa.table({c: [row[i] for row in result.rows] for i, c in enumerate(result.columns)})
    shuffled = table.take(pa.array(random.Random(7).sample(range(table.num_rows), table.num_rows)))

    def parquet(t: pa.Table) -> bytes:
        buffer = io.BytesIO()
        pq.write_table(t, buffer)
        return buffer.getvalue()

    # WHEN the example trains on each
    sandbox = open_sandbox(SandboxConfig())
    runs = [sandbox.run(ML_TRAIN_CODE, {"q1": parquet(t)}) for t in (table, shuffled)]
    # THEN both runs report the same metrics
    assert all(run.failure is None for run in runs)
    assert runs[0].result == runs[1].result and runs[0].result is not None
