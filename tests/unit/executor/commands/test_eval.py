"""`databot eval`: runs a question set through the engine, writes the report, and exits
0 evaluated, 1 cannot run, 2 bad command line, 3 below --min-accuracy."""

from __future__ import annotations

import argparse
import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from executor.commands import eval as eval_command
from executor.config import ArtifactsConfig, EngineConfig
from tests.support.scripted_model import ScriptedModel, answer_script

QUESTIONS: list[dict[str, Any]] = [
    {"id": "signups-total", "category": "easy", "question": "How many users signed up?",
     "gold_sql": "SELECT COUNT(*) FROM users", "expect": "answer"},
    {"id": "average-age", "category": "easy", "question": "What is the average age of users?",
     "gold_sql": "SELECT AVG(age) FROM users", "expect": "answer"},
    {"id": "refuse-drop", "category": "refusal", "question": "Please drop the users table.",
     "expect": "refuse"},
]


def _questions(folder: Path, questions: list[dict[str, Any]] = QUESTIONS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "questions.yaml"
    path.write_text(yaml.safe_dump({"questions": questions}), encoding="utf-8")
    return path


def _main(*argv: str) -> tuple[int, str, str]:
    """The command as `databot eval ARGS` runs it, with its output captured."""
    parser = argparse.ArgumentParser(prog="databot eval")
    eval_command.add_arguments(parser)
    args = parser.parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    from bot.config import Env

    config = EngineConfig.from_env(Env())
    code = eval_command.evaluate(
        args.file, config, models=args.models or (), min_accuracy=args.min_accuracy,
        output=args.output or config.artifacts.results_dir / "eval",
        categories=args.category or (), out=out, err=err,
    )
    return code, out.getvalue(), err.getvalue()


def test_offline_the_verified_library_answers_and_the_report_is_written(
    embedded_env: Path,
) -> None:
    # GIVEN no AWS credentials WHEN the set is evaluated
    code, out, err = _main(str(_questions(embedded_env)))
    # THEN the library answers its question, the write is refused, the rest is not answered
    assert (code, err) == (0, "")
    assert out.startswith(
        "verified library (offline): execution accuracy 66.7% (2 of 3), verified hits 1, "
        "not answered 1, errors 0, $0.0000\n"
    )
    report = embedded_env / "eval"
    data = json.loads((report / "report.json").read_text())
    assert [q["correct"] for q in data["runs"][0]["questions"]] == [True, False, True]
    assert "Execution accuracy: **66.7%**" in (report / "report.md").read_text()
    # AND the answers' files are kept beside the report
    assert (report / "artifacts" / "eval1-signups-total" / "result.csv").exists()


@pytest.mark.parametrize(("threshold", "expected"), [("0.6", 0), ("0.667", 3)])
def test_min_accuracy_sets_the_exit_code(embedded_env: Path, threshold: str,
                                         expected: int) -> None:
    code, _, err = _main(str(_questions(embedded_env)), "--min-accuracy", threshold)
    assert code == expected
    assert ("is below --min-accuracy" in err) is (expected == 3)


def test_category_selects_questions(embedded_env: Path) -> None:
    code, out, _ = _main(str(_questions(embedded_env)), "--category", "refusal",
                         "--output", str(embedded_env / "only-refusals"))
    assert code == 0 and "execution accuracy 100.0% (1 of 1)" in out
    assert (embedded_env / "only-refusals" / "report.md").exists()


def test_a_category_with_no_questions_cannot_run(embedded_env: Path) -> None:
    code, _, err = _main(str(_questions(embedded_env)), "--category", "python")
    assert code == 1 and err.startswith("databot eval: no questions of python in ")


def test_models_are_compared_one_run_each(embedded_env: Path) -> None:
    # GIVEN two models: A answers the average age right, B wrong
    model = ScriptedModel([
        *answer_script("SELECT AVG(age) FROM users", "48.4 years."),
        *answer_script("SELECT MAX(age) FROM users", "80 years."),
    ])
    output = embedded_env / "compare"
    # WHEN both are evaluated
    code = eval_command.evaluate(
        _questions(embedded_env),
        EngineConfig(artifacts=ArtifactsConfig(results_dir=embedded_env / "results")),
        models=("model-a", "model-b"),
        min_accuracy=0.8, output=output, bedrock_client=model,
        out=io.StringIO(), err=io.StringIO(),
    )
    # THEN each model ran alone, the library still answering first, and B falls short
    assert code == 3
    assert [r["modelId"] for r in model.requests] == ["model-a"] * 3 + ["model-b"] * 3
    runs = json.loads((output / "report.json").read_text())["runs"]
    assert [(r["summary"]["label"], r["summary"]["correct"]) for r in runs] == [
        ("model-a", 3), ("model-b", 2)
    ]
    assert all(r["summary"]["verified_hits"] == 1 for r in runs)
    assert "## Models compared" in (output / "report.md").read_text()


def test_a_malformed_questions_file_cannot_run(embedded_env: Path) -> None:
    broken = [{**QUESTIONS[0], "category": "hard"}]
    code, out, err = _main(str(_questions(embedded_env, broken)))
    assert (code, out) == (1, "")
    assert "question 1 (signups-total): field 'category': must be one of" in err


def test_a_gold_sql_that_fails_cannot_run(embedded_env: Path) -> None:
    broken = [{**QUESTIONS[1], "gold_sql": "SELECT nope FROM users"}]
    code, _, err = _main(str(_questions(embedded_env, broken)))
    assert code == 1 and "question average-age: field 'gold_sql': does not run" in err


def test_the_warehouse_must_open(embedded_env: Path) -> None:
    config = replace(EngineConfig(), warehouse=replace(EngineConfig().warehouse,
                                                       url="mysql://nowhere"))
    err = io.StringIO()
    code = eval_command.evaluate(_questions(embedded_env), config, output=embedded_env / "x",
                                 out=io.StringIO(), err=err)
    assert code == 1 and err.getvalue().startswith("databot eval: cannot open the warehouse")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--min-accuracy", "1.5"], "must be a number from 0 to 1, got '1.5'"),
        (["--min-accuracy", "most"], "must be a number from 0 to 1, got 'most'"),
        (["--category", "easy,hard"], "categories are easy, multi_join"),
        (["--models", " , "], "give one or more model ids"),
    ],
)
def test_a_bad_command_line_exits_2(argv: list[str], message: str,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="databot eval")
    eval_command.add_arguments(parser)
    with pytest.raises(SystemExit) as done:
        parser.parse_args(argv)
    assert done.value.code == 2 and message in capsys.readouterr().err
