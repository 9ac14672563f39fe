"""The golden question set: input/eval/questions.yaml, loaded and checked.

Each question carries what it is (a category), what a correct answer does (answers, with
the gold SQL's result, or refuses), and for a follow-up the earlier turns it builds on.
Loading refuses a file with any mistake a person could make while editing it and names
the question and the field, so a broken set fails before any question is asked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from executor.config import DEFAULT_INPUT

DEFAULT_QUESTIONS = DEFAULT_INPUT / "eval" / "questions.yaml"
CATEGORIES = ("easy", "multi_join", "time_window", "ratio", "follow_up", "refusal", "python")
EXPECTS = ("answer", "refuse")
FIELDS = ("id", "category", "question", "previous", "gold_sql", "ordered", "expect")
_KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class GoldenFileError(ValueError):
    """The questions file is malformed; the message names the question and field."""


# Builds the error for one field of the question being read: fail(field, problem).
_Fail = Callable[[str, str], GoldenFileError]


@dataclass(frozen=True)
class GoldenQuestion:
    id: str
    category: str
    question: str
    expect: str
    gold_sql: str | None = None
    # Earlier turns of the conversation, oldest first (follow-ups only).
    previous: tuple[str, ...] = ()
    # Row order matters: the gold SQL orders and the question asks for an order.
    ordered: bool = False

    @property
    def refuse(self) -> bool:
        return self.expect == "refuse"


def load_golden(path: Path = DEFAULT_QUESTIONS) -> list[GoldenQuestion]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise GoldenFileError(f"{path}: cannot read the questions file: {e.strerror}") from e
    except yaml.YAMLError as e:
        raise GoldenFileError(f"{path}: not valid YAML: {e}") from e
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        raise GoldenFileError(f"{path}: expected a mapping with a 'questions' list")
    if not data["questions"]:
        raise GoldenFileError(f"{path}: the 'questions' list is empty")
    questions: list[GoldenQuestion] = []
    seen: set[str] = set()
    for number, item in enumerate(data["questions"], start=1):
        question = _question(item, f"{path}: question {number}")
        if question.id in seen:
            raise GoldenFileError(
                f"{path}: question {number} ({question.id}): field 'id': used twice"
            )
        seen.add(question.id)
        questions.append(question)
    return questions


def _question(item: Any, where: str) -> GoldenQuestion:
    if not isinstance(item, dict):
        raise GoldenFileError(f"{where}: expected a mapping of fields")
    qid = item.get("id")
    if isinstance(qid, str) and qid:
        where = f"{where} ({qid})"

    def fail(field: str, problem: str) -> GoldenFileError:
        return GoldenFileError(f"{where}: field '{field}': {problem}")

    unknown = sorted(set(item) - set(FIELDS))
    if unknown:
        raise fail(unknown[0], f"unknown field; the fields are {', '.join(FIELDS)}")
    if not isinstance(qid, str) or not _KEBAB.match(qid):
        raise fail("id", "required, in kebab-case (lower-case words joined by '-')")
    category = _text(item, "category", fail)
    if category not in CATEGORIES:
        raise fail("category", f"must be one of {', '.join(CATEGORIES)}, got {category!r}")
    expect = _text(item, "expect", fail)
    if expect not in EXPECTS:
        raise fail("expect", f"must be one of {', '.join(EXPECTS)}, got {expect!r}")
    if category == "refusal" and expect != "refuse":
        raise fail("expect", "a refusal question must expect 'refuse'")
    gold_sql = item.get("gold_sql")
    if expect == "refuse" and gold_sql is not None:
        raise fail("gold_sql", "a question that must be refused has no gold SQL")
    if expect == "answer" and (not isinstance(gold_sql, str) or not gold_sql.strip()):
        raise fail("gold_sql", "required (the SQL whose result a correct answer matches)")
    ordered = item.get("ordered", False)
    if not isinstance(ordered, bool):
        raise fail("ordered", f"must be true or false, got {ordered!r}")
    return GoldenQuestion(
        id=qid,
        category=category,
        question=_text(item, "question", fail),
        expect=expect,
        gold_sql=gold_sql.strip() if isinstance(gold_sql, str) else None,
        previous=_previous(item, category, fail),
        ordered=ordered,
    )


def _text(item: dict[str, Any], field: str, fail: _Fail) -> str:
    value = item.get(field)
    if not isinstance(value, str) or not value.strip():
        raise fail(field, "required, a non-empty string")
    return value.strip()


def _previous(item: dict[str, Any], category: str, fail: _Fail) -> tuple[str, ...]:
    previous = item.get("previous")
    if category != "follow_up":
        if previous is not None:
            raise fail("previous", "only a follow_up question has earlier turns")
        return ()
    if (
        not isinstance(previous, list)
        or not previous
        or not all(isinstance(turn, str) and turn.strip() for turn in previous)
    ):
        raise fail("previous", "a follow_up needs its earlier questions, a list of strings")
    return tuple(turn.strip() for turn in previous)
