"""The offline engine end to end on the sample data: a verified answer with its table,
chart, CSV and bundle, zero tokens; and "needs a model" for anything else."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest

from executor.artifacts import LocalArtifactStore
from executor.engine import Request
from executor.errors import NeedsModel
from executor.verified.engine import PREVIEW_ROWS, VerifiedEngine
from executor.verified.library import parse_library
from executor.warehouse.duckdb import DuckDBWarehouse
from tests.support.verified import TODAY

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_verified_answer_has_everything(verified_engine: VerifiedEngine) -> None:
    # GIVEN a question the library covers, with a period
    stages: list[str] = []
    request = Request(
        job_id="job-1", question="weekly signups this quarter", progress=stages.append
    )
    # WHEN the offline engine answers it
    answer = verified_engine.answer(request)
    # THEN it is a verified answer at zero model cost, saying which period it used
    assert answer.verified is True
    assert (answer.usage.input_tokens, answer.usage.output_tokens, answer.usage.cost_usd) == (
        0,
        0,
        0,
    )
    assert answer.usage.model_id is None
    assert "this quarter (2026-10-01 to 2026-11-20)" in answer.text
    assert "signups_by_week" in answer.text and stages == ["Running a verified query"]
    # the SQL as run, in DuckDB's dialect, headed by its bound values
    (sql,) = answer.sql
    assert sql.startswith("-- :start_date = '2026-10-01', :end_date = '2026-11-21'\n")
    assert "DATE_TRUNC('WEEK', signup_date)" in sql
    # the table preview, the chart and the full CSV
    assert answer.table is not None and answer.table.columns == ["week", "signups"]
    assert answer.table.total_rows == 8 == len(answer.table.rows)
    assert answer.table.rows[0][0] == "2026-09-28"  # the Monday of the week 2026-10-01 falls in
    (chart,) = answer.charts
    assert chart.title == "Signups per week"
    assert Path(chart.path).read_bytes().startswith(PNG_MAGIC)
    assert chart.url is not None and Path(chart.url).read_bytes().startswith(PNG_MAGIC)
    with open(answer.artifacts["result.csv"], newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["week", "signups"] and len(rows) == 1 + 8
    assert sum(int(row[1]) for row in rows[1:]) == sum(row[1] for row in answer.table.rows)
    # and the bundle that reproduces it
    bundle = json.loads(Path(answer.artifacts["answer.json"]).read_text())
    assert bundle["verified"] is True and bundle["question"] == "weekly signups this quarter"
    assert bundle["charts"][0]["spec"]["kind"] == "line"
    assert Path(answer.artifacts["query_1.sql"]).read_text().startswith("-- :start_date")


def test_preview_is_cut_but_the_csv_is_whole(verified_engine: VerifiedEngine) -> None:
    answer = verified_engine.answer(Request(job_id="job-2", question="signups by week"))
    assert answer.table is not None and answer.table.total_rows > PREVIEW_ROWS
    assert len(answer.table.rows) == PREVIEW_ROWS and answer.table.truncated
    with open(answer.artifacts["result.csv"], newline="") as f:
        assert sum(1 for _ in f) == 1 + answer.table.total_rows


def test_an_empty_result_says_so(verified_engine: VerifiedEngine) -> None:
    # GIVEN a "today" before the data begins
    engine = VerifiedEngine(
        verified_engine.library,
        verified_engine.warehouse,
        verified_engine.artifacts,
        today=lambda: date(2023, 6, 1),
    )
    # WHEN asked THEN it says no rows, and draws nothing
    answer = engine.answer(Request(job_id="job-3", question="signups per week today"))
    assert answer.text.startswith("No rows matched over today (2023-06-01).")
    assert answer.charts == [] and answer.table is not None and answer.table.total_rows == 0


def test_unmatched_question_needs_a_model(verified_engine: VerifiedEngine) -> None:
    with pytest.raises(NeedsModel) as caught:
        verified_engine.answer(Request(job_id="job-4", question="which users will churn next?"))
    message = str(caught.value)
    assert message.startswith("This question needs a model.")
    for needed in ("MODEL_PROVIDER=bedrock", "MODEL_IDS", "AWS_REGION", "AWS_PROFILE"):
        assert needed in message
    listed = [line.removeprefix("  - ") for line in message.splitlines() if line.startswith("  - ")]
    questions = {entry.question for entry in verified_engine.library.entries}
    assert len(set(listed) & questions) >= 3


def test_examples_for_the_model_are_in_the_warehouse_dialect(
    verified_engine: VerifiedEngine,
) -> None:
    examples = verified_engine.examples("revenue per user by country")
    assert examples[0].question == "What is revenue by country?"
    assert "u.country" in examples[0].sql and "NULLS FIRST" in examples[0].sql  # DuckDB's


def test_a_template_or_chart_that_does_not_fit_falls_back(
    duckdb_sample: DuckDBWarehouse, tmp_path: Path
) -> None:
    # GIVEN an entry whose template formats a number the query returns as NULL, and whose
    # chart names a column the result does not have
    library = parse_library(
        {
            "entries": [
                {
                    "id": "refunds",
                    "question": "How much was refunded?",
                    "paraphrases": ["Total refunds"],
                    "sql": "SELECT MAX(revenue) AS refunded FROM interactions "
                    "WHERE event_type = 'refund'",
                    "answer": "${refunded:,.2f} was refunded.",
                    "chart": {"kind": "bar", "x": "reason", "y": "refunded"},
                    "explanation": "Refunds are not recorded yet.",
                    "verified_by": "tests",
                    "verified_at": TODAY,
                }
            ]
        }
    )
    engine = VerifiedEngine(
        library, duckdb_sample, LocalArtifactStore(tmp_path), today=lambda: TODAY
    )
    # WHEN asked THEN the answer says what there is instead of failing
    answer = engine.answer(Request(job_id="job-5", question="total refunds"))
    assert answer.text.startswith("1 row.\n\nVerified answer (`refunds`")
    assert answer.table is not None and answer.table.rows == [[None]]
    assert answer.charts == [] and "result.csv" in answer.artifacts
