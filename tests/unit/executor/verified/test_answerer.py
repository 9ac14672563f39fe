"""The offline engine end to end on the sample data: a verified answer with its table,
chart, CSV and bundle, zero tokens; and "needs a model" for anything else."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest

from bot.answer import PREVIEW_ROWS
from executor.artifacts import LocalArtifactStore
from executor.engine import Request
from executor.errors import NeedsModel
from executor.verified.answerer import VerifiedEngine
from executor.verified.library import Library, parse_library
from executor.verified.live import LiveLibrary
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
    assert answer.entry_id == "signups_by_week"  # votes on the answer are tallied per entry
    assert "this quarter (2026-10-01 to 2026-11-20)" in answer.text
    assert "signups_by_week" in answer.text and stages == ["Running a verified query"]
    # the SQL as run, in DuckDB's dialect, its values written in and named in a comment
    (sql,) = answer.sql
    assert sql.startswith(
        "-- parameters, written in below: :start_date = DATE '2026-10-01', "
        ":end_date = DATE '2026-11-21'\n"
    )
    assert "signup_date >= DATE '2026-10-01'" in sql and ":start_date\n" not in sql
    assert "DATE_TRUNC('WEEK', signup_date)" in sql
    # the table preview, the chart and the full CSV
    assert answer.table is not None and answer.table.columns == ["week", "signups"]
    assert answer.table.total_rows == 8 == len(answer.table.rows)
    assert answer.table.rows[0][0] == "2026-09-28"  # the Monday of the week 2026-10-01 falls in
    # the current week, where the data ends, is labelled partial and is not the headline
    assert answer.table.rows[-1][0] == "2026-11-16 (through Nov 20)"
    assert "in the week of 2026-11-09, the latest full week" in answer.text
    assert "The week of 2026-11-16 so far (through Nov 20): " in answer.text
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
    saved = Path(answer.artifacts["query_1.sql"]).read_text()
    assert saved.startswith("-- parameters, written in below: :start_date = DATE '2026-10-01'")
    # which runs as saved and gives the same rows
    rerun = verified_engine.warehouse.query(saved.rstrip().rstrip(";"), 100)
    # (the preview labels its last, partial week; the saved query returns the plain date)
    assert [[str(v) for v in row] for row in rerun.rows] == [
        [str(v).split(" (through")[0] for v in row] for row in answer.table.rows
    ]


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


def test_unmatched_question_needs_a_model_and_suggests_close_questions(
    verified_engine: VerifiedEngine,
) -> None:
    # GIVEN a question outside the library WHEN asked offline
    with pytest.raises(NeedsModel) as caught:
        verified_engine.answer(Request(job_id="job-4", question="which users will churn next?"))
    # THEN the message is for the person: no operator set-up, the closest questions instead
    message = str(caught.value)
    assert message.startswith("This question needs the AI model, which is not configured here")
    for operator_only in ("MODEL_PROVIDER", "MODEL_IDS", "AWS_REGION", "AWS_PROFILE"):
        assert operator_only not in message
    questions = {entry.question for entry in verified_engine.library.library.entries}
    assert caught.value.suggestions and set(caught.value.suggestions) <= questions
    assert all(f"• {q}" in message for q in caught.value.suggestions)
    assert any("churn" in q.lower() for q in caught.value.suggestions)


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
        LiveLibrary(library), duckdb_sample, LocalArtifactStore(tmp_path), today=lambda: TODAY
    )
    # WHEN asked THEN the answer says what there is instead of failing
    answer = engine.answer(Request(job_id="job-5", question="total refunds"))
    assert answer.text.startswith("1 row.\n\nVerified answer (`refunds`")
    assert answer.table is not None and answer.table.rows == [[None]]
    assert answer.charts == [] and "result.csv" in answer.artifacts


def test_country_names_read_naturally(verified_engine: VerifiedEngine) -> None:
    # GIVEN the sample data, where the United States has the most users
    question = "which country has the most users?"
    answer = verified_engine.answer(Request(job_id="job-9", question=question))
    # THEN the sentence reads "The United States has …", and a filter "in the United Kingdom"
    assert answer.text.startswith("The United States has the most users")
    in_uk = verified_engine.answer(Request(job_id="job-10", question="signups in the UK"))
    assert " in the United Kingdom" in in_uk.text


# --- periods, partial periods, as-of dates, previews -------------------------------------


def test_last_3_months_by_month_are_three_whole_months(verified_engine: VerifiedEngine) -> None:
    # GIVEN a monthly question over "the last 3 months", asked the day after the data ends
    request = Request(job_id="job-6", question="revenue by month for the last 3 months")
    # WHEN answered
    answer = verified_engine.answer(request)
    # THEN it covers the three whole calendar months before the current one, nothing more
    assert answer.table is not None
    assert [row[0] for row in answer.table.rows] == ["2026-08-01", "2026-09-01", "2026-10-01"]
    assert "the last 3 months (2026-08-01 to 2026-10-31)" in answer.text
    assert "in Oct 2026, the latest full month" in answer.text and "so far" not in answer.text


def test_the_current_month_is_labelled_partial_and_never_the_headline(
    verified_engine: VerifiedEngine,
) -> None:
    # GIVEN monthly signups over all time; the data ends on 2026-11-20
    answer = verified_engine.answer(Request(job_id="job-7", question="signups by month"))
    # THEN the headline gives October, the latest full month, and November "so far"
    assert answer.text.startswith(
        "Signups per month: **362** in Oct 2026, the latest full month; 35 months in all. "
        "Nov 2026 so far (through the 20th): 254."
    )
    # the table shows the latest months, the last one labelled partial, and says so
    table = answer.table
    assert table is not None and table.caption() == "latest 20 of 35 months"
    assert table.rows[-1] == ["2026-11-01 (through the 20th)", 254]
    assert table.rows[-2] == ["2026-10-01", 362]
    # and the answer states the data's as-of date
    assert answer.as_of == "2026-11-20"


def test_periods_count_back_from_the_data_end_when_it_is_older_than_today(
    verified_engine: VerifiedEngine,
) -> None:
    # GIVEN a real date ten days after the data ends
    engine = VerifiedEngine(
        verified_engine.library,
        verified_engine.warehouse,
        verified_engine.artifacts,
        today=lambda: date(2026, 11, 30),
    )
    # WHEN asked about "the last 7 days" and "this month"
    week = engine.answer(Request(job_id="job-8", question="signups in the last 7 days"))
    month = engine.answer(Request(job_id="job-9", question="signups this month"))
    # THEN the periods end where the data ends, not on empty days
    assert "the last 7 days (2026-11-13 to 2026-11-19)" in week.text
    assert "this month (2026-11-01 to 2026-11-20)" in month.text
    assert week.as_of == month.as_of == "2026-11-20"


def test_retention_leaves_out_cohorts_too_young_for_a_full_window(
    verified_engine: VerifiedEngine,
) -> None:
    # GIVEN the data ends on 2026-11-20: a September signup has not had day 59 yet
    answer = verified_engine.answer(Request(job_id="job-10", question="retention by cohort"))
    # THEN the newest cohort shown is August, and the answer says why the rest are missing
    assert answer.table is not None and answer.table.rows[-1][0] == "2026-08-01"
    assert "left out" in answer.text and "days 30 to 59" in answer.text


def test_a_ranking_preview_shows_the_top_rows_and_says_so(
    verified_engine: VerifiedEngine,
) -> None:
    # GIVEN a ranking longer than the preview
    answer = verified_engine.answer(Request(job_id="job-11", question="top 50 items"))
    # THEN the preview holds the top rows and names them
    table = answer.table
    assert table is not None and table.total_rows == 50
    assert table.caption() == f"top {PREVIEW_ROWS} of 50 rows by revenue"
    revenues = [row[2] for row in table.rows]
    assert revenues == sorted(revenues, reverse=True)


def test_funnel_stages_are_nested_so_rates_have_the_right_denominator(
    verified_library: Library, tmp_path: Path
) -> None:
    # GIVEN a viewer who bought, a buyer who never viewed, and a viewer who did nothing more
    data = tmp_path / "data"
    data.mkdir()
    (data / "schema.yaml").write_text("tables: []\n")
    (data / "users.csv").write_text("user_id,device\n1,mobile\n2,mobile\n3,desktop\n")
    (data / "interactions.csv").write_text(
        "user_id,occurred_at,event_type\n"
        "1,2026-11-02 10:00:00,view\n1,2026-11-02 10:01:00,add_to_cart\n"
        "1,2026-11-02 10:02:00,purchase\n2,2026-11-03 09:00:00,purchase\n"
        "3,2026-11-04 12:00:00,view\n"
    )
    warehouse = DuckDBWarehouse(data)
    engine = VerifiedEngine(
        LiveLibrary(verified_library), warehouse, LocalArtifactStore(tmp_path / "out"),
        today=lambda: TODAY,
    )
    # WHEN the funnel is asked for
    answer = engine.answer(Request(job_id="job-12", question="show the conversion funnel"))
    warehouse.close()
    # THEN the buyer who never viewed is not a converted viewer: 1 of 2 viewers bought
    assert answer.table is not None
    assert answer.table.rows == [[2, 1, 1, 50.0, 100.0, 50.0]]
