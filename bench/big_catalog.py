"""The system prompt on a large warehouse: its size, and whether the tables a question needs
reach it.

Over the generated 2,000-table catalog (bench/catalog_tables.py) and the question set
tests/data/big_catalog_questions.yaml (each question names the tables it needs; follow-ups
carry the SQL of the earlier turn), with the verified library's closest entries as worked
examples, as the agent has them: per question, the system prompt's tokens (estimated as
characters / 4) p50, p95 and max, and the share of questions whose needed tables are all
described in full, and all named anywhere in the prompt. Before: the selection the prompt
had until large warehouses got their own (word overlap, eight tables described, the rest
named within a 64 KB prompt). After: executor/agent/table_choice.py.

Targets: under 6,000 prompt tokens, needed tables described for at least 95 % of questions.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from unittest import mock

from bench.catalog import percentile
from bench.catalog_tables import generate_tables
from executor.agent import table_choice
from executor.agent.prompt import Example, system_prompt
from executor.agent.table_choice import MORE_TABLES, TableChoice
from executor.tools.bounded import cut
from executor.verified import text as verified_text
from executor.verified.library import load_library
from executor.verified.matcher import Matcher
from executor.warehouse.base import TableInfo
from executor.yaml_text import load_yaml
from tests.support.paths import TEST_DATA

QUESTIONS = TEST_DATA / "big_catalog_questions.yaml"
TODAY = date(2026, 11, 30)
DIALECT = "redshift"
CHARS_PER_TOKEN = 4
MAX_TOKENS = 6_000
TARGET_SHARE = 0.95


@dataclass(frozen=True)
class Question:
    text: str
    tables: frozenset[str]
    earlier_sql: tuple[str, ...] = ()


def load_questions() -> list[Question]:
    data = load_yaml(QUESTIONS.read_text(encoding="utf-8"))
    return [Question(item["question"], frozenset(item["tables"]),
                     tuple(item.get("earlier_sql") or ())) for item in data["questions"]]


def prompt_for(tables: Sequence[TableInfo], question: Question,
               examples: Sequence[Example]) -> str:
    return system_prompt(tables, DIALECT, TODAY, question.text, examples,
                         earlier_sql=[question.earlier_sql] if question.earlier_sql else []
                         ).text


def shown_tables(prompt: str) -> tuple[set[str], set[str]]:
    """The tables the prompt describes, and those it only names."""
    described = {json.loads(line)["name"] for line in prompt.splitlines()
                 if line.startswith('{"name"')}
    line = next((line for line in prompt.splitlines() if line.startswith(MORE_TABLES)), "")
    named = set(json.loads(line[line.index("["):line.rindex("]") + 1])) if line else set()
    return described, named


def before_choice(tables: Sequence[TableInfo], question: str, examples: Sequence[Example],
                  earlier_sql: object, dialect: object) -> TableChoice:
    """The selection the prompt made before: word overlap with the question, a table named
    by a worked example's SQL first, eight described, the others named within 64 KB."""
    words = _words(question)
    # The words of the examples' SQL: what its `\bNAME\b` search found.
    sql = set(re.findall(r"\w+", " ".join(cut(example.sql, 3_000).lower()
                                             for example in examples)))

    def relevance(table: TableInfo) -> float:
        name, description, columns = _table_words(table)
        score = 3.0 * len(words & name) + len(words & description)
        score += sum(0.5 * len(words & column) for column in columns)
        if table.name.lower() in sql:
            score += 5.0
        return score

    ranked = sorted(tables, key=relevance, reverse=True)
    return TableChoice(ranked[:8], ranked[8:])


_TABLE_WORDS: dict[str, tuple[set[str], set[str], list[set[str]]]] = {}


def _table_words(table: TableInfo) -> tuple[set[str], set[str], list[set[str]]]:
    """A table's words as the selection before read them, read once per table name so
    that the benchmark runs in time."""
    if table.name not in _TABLE_WORDS:
        _TABLE_WORDS[table.name] = _read_words(table)
    return _TABLE_WORDS[table.name]


def _read_words(table: TableInfo) -> tuple[set[str], set[str], list[set[str]]]:
    columns = [_words(f"{column.name.replace('_', ' ')} {cut(column.description, 400)}")
               for column in table.columns]
    return (_words(table.name.replace("_", " ")), _words(cut(table.description, 400)),
            columns)


def _words(text: str) -> set[str]:
    return {verified_text.singular(w) for w in verified_text.words(text) if len(w) >= 3}


@dataclass(frozen=True)
class Figures:
    tokens: list[float]
    described: float
    named: float
    seconds: list[float]
    missed: list[Question]


def measure(tables: Sequence[TableInfo], questions: Sequence[Question],
            examples_for: object) -> Figures:
    tokens, seconds, missed = [], [], []
    described_all = named_all = 0
    for question in questions:
        examples = examples_for(question.text)  # type: ignore[operator]
        started = time.perf_counter()
        prompt = prompt_for(tables, question, examples)
        seconds.append(time.perf_counter() - started)
        tokens.append(len(prompt) / CHARS_PER_TOKEN)
        described, named = shown_tables(prompt)
        described_all += question.tables <= described
        named_all += question.tables <= described | named
        if not question.tables <= described:
            missed.append(question)
    count = len(questions)
    return Figures(tokens, described_all / count, named_all / count, seconds, missed)


def report(label: str, figures: Figures) -> None:
    tokens = figures.tokens
    print(f"{label}: prompt tokens p50 {statistics.median(tokens):,.0f}, "
          f"p95 {percentile(tokens, 0.95):,.0f}, max {max(tokens):,.0f}; needed tables "
          f"described {figures.described:.1%}, named anywhere {figures.named:.1%}; "
          f"prompt built in p50 {statistics.median(figures.seconds) * 1000:.1f} ms")


def main() -> None:
    started = time.perf_counter()
    tables = generate_tables(2000)
    questions = load_questions()
    matcher = Matcher(load_library())

    def examples_for(text: str) -> list[Example]:
        return list(matcher.closest(text))

    print(f"{len(tables):,} tables, {len(questions)} questions "
          f"({sum(bool(q.earlier_sql) for q in questions)} follow-ups, "
          f"{sum(len(q.tables) > 1 for q in questions)} needing several tables); "
          f"tokens = characters / {CHARS_PER_TOKEN}")
    with mock.patch.object(table_choice, "choose_tables", before_choice), \
            mock.patch("executor.agent.prompt.choose_tables", before_choice):
        report("before", measure(tables, questions, examples_for))
    built = time.perf_counter()
    table_choice.catalog_index(tables)  # built once per catalog, as a worker does
    print(f"catalog index (BM25, names, keys) built in {time.perf_counter() - built:.2f} s")
    after = measure(tables, questions, examples_for)
    report("after ", after)
    for question in after.missed[:10]:
        print(f"  not described: {question.text!r} needs {sorted(question.tables)}")
    ok = max(after.tokens) < MAX_TOKENS and after.described >= TARGET_SHARE
    print(f"verdict: {'PASS' if ok else 'FAIL'} (targets: under {MAX_TOKENS:,} tokens, "
          f"needed tables described for at least {TARGET_SHARE:.0%}); "
          f"{time.perf_counter() - started:.1f} s in all")
