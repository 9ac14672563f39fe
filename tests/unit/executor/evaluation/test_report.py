"""The report's figures, computed from known outcomes, and its two files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from executor.evaluation.harness import Outcome, Run
from executor.evaluation.report import percentile, summarize, write_report


def _outcome(qid: str, category: str, correct: bool, **fields: object) -> Outcome:
    expect = "refuse" if category == "refusal" else "answer"
    return Outcome(id=qid, category=category, expect=expect, correct=correct, **fields)  # type: ignore[arg-type]


RUN = Run("model-a", [
    _outcome("a", "easy", True, match="exact", verified=True, latency_s=0.1),
    _outcome("b", "easy", False, reason="the values differ", cost_usd=0.03,
             input_tokens=2000, output_tokens=200, latency_s=2.0),
    _outcome("c", "ratio", True, match="subset", cost_usd=0.01, input_tokens=1000,
             output_tokens=100, cached_tokens=600, latency_s=1.0),
    _outcome("d", "refusal", True, match="refused", refused=True, latency_s=0.0),
    _outcome("e", "refusal", False, reason="not answered: the question needs a model",
             answered=False, latency_s=0.3),
    _outcome("f", "python", False, reason="error: boom", answered=False, error="boom",
             latency_s=4.0),
])


def test_the_summary_counts_every_figure() -> None:
    s = summarize(RUN)
    assert (s.questions, s.correct, s.accuracy) == (6, 3, 0.5)
    assert {c: (v.correct, v.questions) for c, v in s.by_category.items()} == {
        "easy": (1, 2), "ratio": (1, 1), "refusal": (1, 2), "python": (0, 1),
    }
    assert s.by_category["easy"].accuracy == 0.5
    assert (s.verified_hits, s.verified_hit_rate) == (1, pytest.approx(1 / 6))
    assert (s.refusals, s.refusals_correct, s.not_answered, s.errors) == (2, 1, 1, 1)
    assert s.cost_usd == pytest.approx(0.04)
    assert s.cost_per_question_usd == pytest.approx(0.04 / 6)
    assert s.tokens_per_question == pytest.approx(3300 / 6)
    # latencies sorted: 0.0 0.1 0.3 1.0 2.0 4.0
    assert s.latency_p50_s == pytest.approx(0.65)
    assert s.latency_p95_s == pytest.approx(3.5)


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [([], 50, 0.0), ([7.0], 95, 7.0), ([1.0, 2.0, 3.0, 4.0], 50, 2.5),
     ([1.0, 2.0, 3.0, 4.0, 5.0], 95, 4.8), ([3.0, 1.0, 2.0], 0, 1.0)],
)
def test_percentiles_interpolate_between_ranks(values: list[float], p: float,
                                               expected: float) -> None:
    assert percentile(values, p) == pytest.approx(expected)


def test_an_empty_run_reports_zeros() -> None:
    s = summarize(Run("empty"))
    assert (s.accuracy, s.verified_hit_rate, s.cost_per_question_usd) == (0.0, 0.0, 0.0)


def test_the_report_files_hold_the_summary_and_every_question(tmp_path: Path) -> None:
    other = Run("model-b", [_outcome("a", "easy", False, reason="2 rows, expected 3")])
    markdown, data = write_report([RUN, other], tmp_path / "out")
    report = json.loads(data.read_text())
    first, second = report["runs"]
    assert first["summary"]["accuracy"] == 0.5 and first["summary"]["errors"] == 1
    assert first["summary"]["by_category"]["easy"] == {"correct": 1, "questions": 2,
                                                        "accuracy": 0.5}
    assert [q["id"] for q in first["questions"]] == ["a", "b", "c", "d", "e", "f"]
    assert second["summary"]["label"] == "model-b"
    text = markdown.read_text()
    assert "## Models compared" in text
    assert "| model-a | 50.0% | 16.7% | $0.0067 | 550 | 0.65 s | 3.50 s |" in text
    assert "| easy | 50.0% (1/2) | 0.0% (0/1) |" in text
    assert "| ratio | 100.0% (1/1) | - |" in text
    assert "- Execution accuracy: **50.0%** (3 of 6)" in text
    assert "- Correct refusals: 1 of 2" in text
    # the prompt tokens read from the cache are named, when a run had any
    assert "(3,000 in, 600 of them cached, 300 out in all)" in text
    assert first["summary"]["cached_tokens"] == 600
    assert "of them cached" not in _run_text(text, "model-b")
    assert "| b | easy | wrong: the values differ |  | $0.0300 | 2,200 | 2.00 s |" in text


def _run_text(markdown: str, label: str) -> str:
    return markdown[markdown.index(f"## {label}"):]


def test_one_run_has_no_comparison(tmp_path: Path) -> None:
    markdown, _ = write_report([RUN], tmp_path)
    assert "Models compared" not in markdown.read_text()
