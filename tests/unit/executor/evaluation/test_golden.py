"""The golden question set's loader: every mistake is refused, naming question and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from executor.evaluation.golden import GoldenFileError, GoldenQuestion, load_golden

VALID: dict[str, Any] = {
    "id": "signups-total",
    "category": "easy",
    "question": "How many users signed up?",
    "gold_sql": "SELECT COUNT(*) FROM users",
    "expect": "answer",
}


def _write(tmp_path: Path, questions: Any) -> Path:
    path = tmp_path / "questions.yaml"
    path.write_text(yaml.safe_dump({"questions": questions}), encoding="utf-8")
    return path


def test_a_valid_file_loads_every_field(tmp_path: Path) -> None:
    follow_up = {
        "id": "followup-by-month",
        "category": "follow_up",
        "previous": ["How many users signed up in 2025?"],
        "question": "Break that down by month.",
        "gold_sql": "SELECT 1",
        "ordered": True,
        "expect": "answer",
    }
    refusal = {"id": "refuse-drop", "category": "refusal", "question": "Drop the users table.",
               "expect": "refuse"}
    questions = load_golden(_write(tmp_path, [VALID, follow_up, refusal]))
    assert questions == [
        GoldenQuestion("signups-total", "easy", "How many users signed up?", "answer",
                       gold_sql="SELECT COUNT(*) FROM users"),
        GoldenQuestion("followup-by-month", "follow_up", "Break that down by month.", "answer",
                       gold_sql="SELECT 1", previous=("How many users signed up in 2025?",),
                       ordered=True),
        GoldenQuestion("refuse-drop", "refusal", "Drop the users table.", "refuse"),
    ]
    assert questions[2].refuse and not questions[0].refuse


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": None}, "question 1: field 'id': required, in kebab-case"),
        ({"id": "Signups_Total"}, "question 1 (Signups_Total): field 'id': required, in kebab"),
        ({"category": "hard"},
         "(signups-total): field 'category': must be one of easy, multi_join, time_window"),
        ({"category": None}, "field 'category': required, a non-empty string"),
        ({"question": "  "}, "field 'question': required, a non-empty string"),
        ({"expect": "maybe"}, "field 'expect': must be one of answer, refuse, got 'maybe'"),
        ({"expect": "refuse"}, "field 'gold_sql': a question that must be refused has no gold"),
        ({"gold_sql": None}, "field 'gold_sql': required (the SQL whose result"),
        ({"ordered": "yes"}, "field 'ordered': must be true or false, got 'yes'"),
        ({"previous": ["earlier?"]}, "field 'previous': only a follow_up question has earlier"),
        ({"category": "follow_up"}, "field 'previous': a follow_up needs its earlier questions"),
        ({"category": "follow_up", "previous": [""]}, "field 'previous': a follow_up needs"),
        ({"category": "refusal"}, "field 'expect': a refusal question must expect 'refuse'"),
        ({"sql": "SELECT 1"}, "field 'sql': unknown field; the fields are id, category"),
    ],
)
def test_each_mistake_names_the_question_and_field(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    question = {**VALID, **change}
    path = _write(tmp_path, [{k: v for k, v in question.items() if v is not None}])
    with pytest.raises(GoldenFileError) as refused:
        load_golden(path)
    assert message in str(refused.value)
    assert str(refused.value).startswith(f"{path}: question 1")


def test_an_id_used_twice_is_refused(tmp_path: Path) -> None:
    used_twice = r"question 2 \(signups-total\): field 'id': used twice"
    with pytest.raises(GoldenFileError, match=used_twice):
        load_golden(_write(tmp_path, [VALID, VALID]))


def test_a_question_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    with pytest.raises(GoldenFileError, match="question 2: expected a mapping of fields"):
        load_golden(_write(tmp_path, [VALID, "How many users?"]))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("questions: [", "not valid YAML"),
        ("- id: x\n", "expected a mapping with a 'questions' list"),
        ("questions: {id: x}\n", "expected a mapping with a 'questions' list"),
        ("questions: []\n", "the 'questions' list is empty"),
    ],
)
def test_a_malformed_file_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "questions.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(GoldenFileError, match=message):
        load_golden(path)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(GoldenFileError, match="cannot read the questions file"):
        load_golden(tmp_path / "nowhere.yaml")
