"""What an evaluation measured, as report.md for people and report.json for tools.

Per run (one per model when models are compared): execution accuracy overall and by
category, the verified-hit rate, correct refusals, questions not answered and errors,
cost and tokens per question, and latency p50/p95; then every question's outcome.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from executor.evaluation.golden import CATEGORIES
from executor.evaluation.harness import Outcome, Run


@dataclass(frozen=True)
class CategoryScore:
    correct: int
    questions: int

    @property
    def accuracy(self) -> float:
        return _share(self.correct, self.questions)


@dataclass(frozen=True)
class Summary:
    label: str
    questions: int
    correct: int
    by_category: dict[str, CategoryScore]
    verified_hits: int
    refusals: int
    refusals_correct: int
    not_answered: int
    errors: int
    cost_usd: float
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    latency_p50_s: float
    latency_p95_s: float

    @property
    def accuracy(self) -> float:
        return _share(self.correct, self.questions)

    @property
    def verified_hit_rate(self) -> float:
        return _share(self.verified_hits, self.questions)

    @property
    def cost_per_question_usd(self) -> float:
        return self.cost_usd / self.questions if self.questions else 0.0

    @property
    def tokens_per_question(self) -> float:
        tokens = self.input_tokens + self.output_tokens
        return tokens / self.questions if self.questions else 0.0


def summarize(run: Run) -> Summary:
    outcomes = run.outcomes
    refusals = [o for o in outcomes if o.expect == "refuse"]
    latencies = [o.latency_s for o in outcomes]
    return Summary(
        label=run.label,
        questions=len(outcomes),
        correct=sum(o.correct for o in outcomes),
        by_category=_by_category(outcomes),
        verified_hits=sum(o.verified for o in outcomes),
        refusals=len(refusals),
        refusals_correct=sum(o.correct for o in refusals),
        not_answered=sum(not o.answered and o.error is None for o in outcomes),
        errors=sum(o.error is not None for o in outcomes),
        cost_usd=sum(o.cost_usd for o in outcomes),
        input_tokens=sum(o.input_tokens for o in outcomes),
        output_tokens=sum(o.output_tokens for o in outcomes),
        cached_tokens=sum(o.cached_tokens for o in outcomes),
        latency_p50_s=percentile(latencies, 50),
        latency_p95_s=percentile(latencies, 95),
    )


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile, interpolated linearly between the closest ranks (as numpy's
    default); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def write_report(runs: Sequence[Run], output: Path) -> tuple[Path, Path]:
    """report.md and report.json in `output` (created); returns their paths."""
    output.mkdir(parents=True, exist_ok=True)
    summaries = [summarize(run) for run in runs]
    markdown, data = output / "report.md", output / "report.json"
    markdown.write_text(render_markdown(runs, summaries), encoding="utf-8")
    data.write_text(
        json.dumps(report_data(runs, summaries), indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    return markdown, data


def report_data(runs: Sequence[Run], summaries: Sequence[Summary]) -> dict[str, Any]:
    return {
        "runs": [
            {"summary": _summary_data(summary), "questions": [asdict(o) for o in run.outcomes]}
            for run, summary in zip(runs, summaries, strict=True)
        ]
    }


def render_markdown(runs: Sequence[Run], summaries: Sequence[Summary]) -> str:
    lines = ["# Evaluation report", ""]
    if len(summaries) > 1:
        lines += _comparison(summaries)
    for run, summary in zip(runs, summaries, strict=True):
        lines += _run_section(run, summary)
    return "\n".join(lines) + "\n"


def _comparison(summaries: Sequence[Summary]) -> list[str]:
    lines = [
        "## Models compared",
        "",
        "| run | accuracy | verified hits | cost / question | tokens / question | p50 | p95 |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {s.label} | {_percent(s.accuracy)} | {_percent(s.verified_hit_rate)} | "
        f"${s.cost_per_question_usd:.4f} | {s.tokens_per_question:,.0f} | "
        f"{s.latency_p50_s:.2f} s | {s.latency_p95_s:.2f} s |"
        for s in summaries
    ]
    categories = [c for c in CATEGORIES if any(c in s.by_category for s in summaries)]
    lines += ["", "| category | " + " | ".join(s.label for s in summaries) + " |",
              "|---|" + "---|" * len(summaries)]
    for category in categories:
        cells = [
            _score(s.by_category[category]) if category in s.by_category else "-"
            for s in summaries
        ]
        lines.append(f"| {category} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _run_section(run: Run, s: Summary) -> list[str]:
    lines = [
        f"## {s.label}",
        "",
        f"- Execution accuracy: **{_percent(s.accuracy)}** ({s.correct} of {s.questions})",
        f"- Verified-hit rate: {_percent(s.verified_hit_rate)} ({s.verified_hits} answered "
        "from the verified library)",
        f"- Correct refusals: {s.refusals_correct} of {s.refusals}",
        f"- Not answered (needs a model): {s.not_answered}; errors: {s.errors}",
        f"- Cost: ${s.cost_usd:.4f} in all, ${s.cost_per_question_usd:.4f} per question; "
        f"tokens per question: {s.tokens_per_question:,.0f} "
        f"({s.input_tokens:,} in{_cached(s.cached_tokens)}, {s.output_tokens:,} out in all)",
        f"- Latency: p50 {s.latency_p50_s:.2f} s, p95 {s.latency_p95_s:.2f} s",
        "",
        "| category | correct | accuracy |",
        "|---|---|---|",
    ]
    lines += [
        f"| {category} | {score.correct} of {score.questions} | {_percent(score.accuracy)} |"
        for category, score in s.by_category.items()
    ]
    lines += [
        "",
        "| question | category | result | verified | cost | tokens | latency |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [_outcome_row(o) for o in run.outcomes]
    return [*lines, ""]


def _outcome_row(o: Outcome) -> str:
    result = f"correct ({o.match})" if o.correct else f"wrong: {o.reason}"
    result = result.replace("|", "\\|").replace("\n", " ")
    return (
        f"| {o.id} | {o.category} | {result} | {'yes' if o.verified else ''} | "
        f"${o.cost_usd:.4f} | {o.input_tokens + o.output_tokens:,} | {o.latency_s:.2f} s |"
    )


def _summary_data(s: Summary) -> dict[str, Any]:
    return {
        "label": s.label,
        "questions": s.questions,
        "correct": s.correct,
        "accuracy": s.accuracy,
        "by_category": {
            category: {"correct": score.correct, "questions": score.questions,
                       "accuracy": score.accuracy}
            for category, score in s.by_category.items()
        },
        "verified_hits": s.verified_hits,
        "verified_hit_rate": s.verified_hit_rate,
        "refusals": s.refusals,
        "refusals_correct": s.refusals_correct,
        "not_answered": s.not_answered,
        "errors": s.errors,
        "cost_usd": s.cost_usd,
        "cost_per_question_usd": s.cost_per_question_usd,
        "input_tokens": s.input_tokens,
        "output_tokens": s.output_tokens,
        "cached_tokens": s.cached_tokens,
        "tokens_per_question": s.tokens_per_question,
        "latency_p50_s": s.latency_p50_s,
        "latency_p95_s": s.latency_p95_s,
    }


def _by_category(outcomes: Sequence[Outcome]) -> dict[str, CategoryScore]:
    """Categories in the set's canonical order, only those asked."""
    return {
        category: CategoryScore(
            correct=sum(o.correct for o in outcomes if o.category == category),
            questions=sum(o.category == category for o in outcomes),
        )
        for category in CATEGORIES
        if any(o.category == category for o in outcomes)
    }


def _cached(tokens: int) -> str:
    """", 9,800 of them cached": the prompt tokens read from the prompt cache, when any."""
    return f", {tokens:,} of them cached" if tokens else ""


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def _score(score: CategoryScore) -> str:
    return f"{_percent(score.accuracy)} ({score.correct}/{score.questions})"
