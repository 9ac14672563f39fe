"""`databot ask`: what it prints and its exit codes (0 answered, 3 needs a model, 1 error,
2 bad command line), on the embedded defaults; `--list`; refusals and small talk."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest

from executor.commands import ask


def _run(*argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="databot ask")
    ask.add_arguments(parser)
    args = parser.parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    from bot.config import Env
    from executor.config import EngineConfig

    config = EngineConfig.from_env(Env())
    code = ask.ask(args.question, config, as_json=args.json, today=args.today, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_answers_with_sql_table_chart_and_files(embedded_env: Path) -> None:
    # GIVEN no AWS credentials WHEN a covered question is asked
    code, out, err = _run("What is revenue by plan?")
    # THEN it answers: text, SQL, table, chart and file paths under RESULTS_DIR, usage
    assert (code, err) == (0, "")
    assert out.startswith("The enterprise plan brings the most revenue: $")
    for heading in ("\nSQL\n", "\nResult (3 rows)\n", "\nCharts\n", "\nFiles\n"):
        assert heading in out
    lines = out.splitlines()
    header = lines.index("Result (3 rows)") + 1
    assert lines[header].split() == ["plan", "revenue", "purchases"]
    assert lines[header + 2].split()[0] == "enterprise"
    assert "verified query · 0 in / 0 out tokens · $0.0000" in out
    paths = [
        line.split(": ", 1)[1]
        for line in out.splitlines()
        if line.startswith("  ") and ": /" in line
    ]
    assert {Path(p).name for p in paths} >= {"chart_1.png", "result.csv", "answer.json"}
    for path in paths:
        assert Path(path).is_file() and Path(path).is_relative_to(embedded_env.resolve())


def test_json_prints_the_answer_only(embedded_env: Path) -> None:
    code, out, _ = _run("users who never purchased", "--json")
    answer = json.loads(out)  # the whole of stdout: no log lines mixed in
    assert code == 0 and answer["verified"] is True
    assert answer["table"]["columns"] == ["users", "never_purchased", "never_purchased_pct"]
    assert answer["table"]["rows"][0][0] == 5000
    assert set(answer["artifacts"]) == {"result.csv", "answer.json", "query_1.sql"}


def test_today_anchors_relative_periods(embedded_env: Path) -> None:
    code, out, _ = _run("signups in the last 7 days", "--today", "2025-03-10")
    assert code == 0
    assert "over the last 7 days (2025-03-03 to 2025-03-09)" in out
    assert ":start_date = DATE '2025-03-03', :end_date = DATE '2025-03-10'" in out
    assert "signup_date >= DATE '2025-03-03'" in out and ":start_date\n" not in out


def test_needs_a_model_exits_3_with_close_questions_and_operator_steps_apart(
    embedded_env: Path,
) -> None:
    # GIVEN no model WHEN a question outside the library is asked
    code, out, err = _run("Which users are likely to churn next month?")
    # THEN stdout is what a person may read (no AWS set-up), stderr tells the operator how
    assert code == 3
    assert out.startswith("This question needs the AI model, which is not configured here")
    assert "AWS_PROFILE" not in out and "MODEL_PROVIDER" not in out
    assert "churn" in out.split("answer now:", 1)[1].lower()
    assert "MODEL_PROVIDER=bedrock" in err and "AWS_PROFILE" in err


def test_suggestions_follow_the_question(embedded_env: Path) -> None:
    # GIVEN two unrelated unanswerable questions WHEN asked THEN each gets its own suggestions
    _, about_revenue, _ = _run("what will revenue be by category next quarter?", "--json")
    _, about_devices, _ = _run("which device has the slowest page loads?", "--json")
    revenue, devices = (json.loads(out)["suggestions"] for out in (about_revenue, about_devices))
    assert revenue != devices
    assert any("revenue" in q.lower() for q in revenue)
    assert any("device" in q.lower() for q in devices)


def test_needs_a_model_as_json(embedded_env: Path) -> None:
    code, out, _ = _run("Which users are likely to churn next month?", "--json")
    payload = json.loads(out)
    assert code == 3 and payload["needs_model"] is True
    assert "not configured here" in payload["message"] and payload["suggestions"]


@pytest.mark.parametrize(
    "request_text",
    ["delete all users", "Please drop the interactions table",
     "can you update user 42's plan to pro?", "run DELETE FROM users WHERE plan = 'free'"],
)
def test_requests_to_change_data_are_refused_without_a_model(
    embedded_env: Path, request_text: str
) -> None:
    # GIVEN no model WHEN someone asks to change data THEN databot says it only reads
    code, out, _ = _run(request_text)
    assert code == 0
    assert out.startswith("databot only reads data")
    assert "needs" not in out.split("\n", 1)[0] and "\nSQL\n" not in out


def test_small_talk_gets_a_scope_statement(embedded_env: Path) -> None:
    code, out, _ = _run("hi there!")
    assert code == 0 and out.startswith("Hi! I'm databot") and "I only read data" in out


def test_no_scratch_folder_is_left_and_chart_paths_exist(embedded_env: Path) -> None:
    # GIVEN a question answered with a chart WHEN asked as JSON
    code, out, _ = _run("signups per month", "--json")
    answer = json.loads(out)
    # THEN every path it reports exists, and its scratch folder is gone
    assert code == 0 and answer["charts"]
    for chart in answer["charts"]:
        assert Path(chart["path"]).is_file()
        assert Path(chart["path"]).is_relative_to(embedded_env.resolve())
    job_id = Path(answer["artifacts"]["answer.json"]).parent.name
    from executor.artifacts.keys import scratch_dir

    assert not scratch_dir(job_id).exists()


def test_list_prints_every_verified_question(capsys: pytest.CaptureFixture[str]) -> None:
    from executor.verified.library import load_library

    parser = argparse.ArgumentParser(prog="databot ask")
    ask.add_arguments(parser)
    assert ask.run(parser.parse_args(["--list"])) == 0
    out = capsys.readouterr().out
    entries = load_library().entries
    for entry in entries:
        assert f"{entry.question}  ({entry.id})" in out
    assert f"{len(entries)} verified questions" in out


def test_no_question_and_no_list_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="databot ask")
    ask.add_arguments(parser)
    assert ask.run(parser.parse_args([])) == 2
    assert "give a question, or --list" in capsys.readouterr().err


def test_a_warehouse_that_cannot_open_exits_1(
    embedded_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAREHOUSE_URL", "mysql://admin:s3cret@db.example.com/prod")
    code, out, err = _run("revenue by plan")
    assert (code, out) == (1, "")
    assert err.startswith("databot ask: cannot open the warehouse: WAREHOUSE_URL must start with")
    assert "s3cret" not in err


def test_a_warehouse_without_the_tables_exits_1(
    embedded_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # GIVEN a DuckDB folder with no users table WHEN a verified query runs THEN a clear error
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "other.csv").write_text("a\n1\n")
    monkeypatch.setenv("WAREHOUSE_URL", f"duckdb://{tmp_path / 'empty'}")
    code, out, err = _run("revenue by plan")
    assert (code, out) == (1, "")
    assert err.startswith("databot ask: ") and "interactions" in err


def test_an_unknown_model_provider_exits_1(
    embedded_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODEL_PROVIDER", "openai")
    code, _, err = _run("revenue by plan")
    assert code == 1 and "MODEL_PROVIDER must be one of bedrock, offline" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["   "], "the question is empty"), (["q", "--today", "yesterday"], "expected a date")],
)
def test_bad_command_lines_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser(prog="databot ask")
    ask.add_arguments(parser)
    with pytest.raises(SystemExit) as caught:
        parser.parse_args(argv)
    assert caught.value.code == 2 and message in capsys.readouterr().err


def test_run_reads_the_environment(embedded_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="databot ask")
    ask.add_arguments(parser)
    assert ask.run(parser.parse_args(["users by plan", "--json"])) == 0
    assert json.loads(capsys.readouterr().out)["table"]["columns"] == ["plan", "users", "pct"]


def test_a_misconfigured_profile_is_one_line_naming_the_cause(
    embedded_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN Bedrock chosen with an AWS profile that does not exist
    import boto3

    monkeypatch.setenv("MODEL_PROVIDER", "bedrock")
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    monkeypatch.setattr("executor.agent.models._clients", {})
    # WHEN a question for the model is asked
    code, out, err = _run("Which users are likely to churn next month?")
    # THEN one line on stderr names the cause
    assert (code, out) == (1, "")
    assert err.count("\n") == 1
    assert err.startswith("databot ask: AWS_PROFILE names a profile that does not exist")
