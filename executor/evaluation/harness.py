"""Runs golden questions through an engine and scores each answer by execution.

The engine is the one the CLI and the worker use (`executor.router.build_engine`): the
verified library first, then the model. A follow-up is asked after its earlier turns,
which the engine answers first and receives as the request's history, as in a thread.

An answer is scored by its result set: its last SQL statement (the Answer carries the
statements it ran and only a preview of the rows) is run again through the guarded
warehouse path for the whole result, and compared with the gold SQL's result, which runs
through the same path (executor.evaluation.scoring). Per question the harness keeps the
category, the verdict, whether the verified library answered, whether the engine refused,
and the cost, tokens and latency.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.answer import Answer
from bot.observability import service_logger
from executor.artifacts.keys import scratch_dir
from executor.engine import Engine, Request, Turn
from executor.errors import DatabotError, NeedsModel, UserFacingError
from executor.evaluation.golden import GoldenFileError, GoldenQuestion
from executor.evaluation.scoring import (
    ResultSet,
    Verdict,
    match_figures,
    match_results,
    score_refusal,
)
from executor.row_limits import EVAL_ROWS
from executor.warehouse.base import Warehouse
from executor.warehouse.guarded import run_guarded

logger = service_logger()

GoldResults = dict[str, ResultSet]


@dataclass(frozen=True)
class Outcome:
    """One question's result in one run."""

    id: str
    category: str
    expect: str
    correct: bool
    # How it matched ("exact", "subset", "figures", "refused"), or why not.
    match: str = ""
    reason: str = ""
    # Answered from the verified library.
    verified: bool = False
    # Declined in words: an answer that ran no SQL and no Python.
    refused: bool = False
    # False when the engine raised instead of answering (NeedsModel offline, an error).
    answered: bool = True
    error: str | None = None
    # The model that answered, when one did.
    model_id: str | None = None
    # Usage summed over the question's turns (a follow-up's earlier turns included):
    # every prompt token, those of them read from the prompt cache, and the output tokens.
    cost_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    # Seconds the engine took on the question itself (its last turn).
    latency_s: float = 0.0
    sql: str | None = None


@dataclass
class Run:
    """One pass of the question set through one engine (one model, when comparing)."""

    label: str
    outcomes: list[Outcome] = field(default_factory=list)


@dataclass
class _Usage:
    cost_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0

    def add(self, answer: Answer) -> None:
        usage = answer.usage
        self.cost_usd += usage.cost_usd
        # Prompt tokens read from or written to the cache are prompt tokens too, so runs
        # with and without prompt caching compare.
        self.input_tokens += usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens
        self.output_tokens += usage.output_tokens
        self.cached_tokens += usage.cache_read_tokens


def gold_results(questions: Sequence[GoldenQuestion], warehouse: Warehouse) -> GoldResults:
    """Each answerable question's gold result; a gold SQL that fails or returns more rows
    than can be compared is a mistake in the questions file."""
    results: GoldResults = {}
    for question in questions:
        if question.gold_sql is None:
            continue
        try:
            result = run_guarded(warehouse, question.gold_sql, max_rows=EVAL_ROWS)
        except DatabotError as e:
            raise GoldenFileError(
                f"question {question.id}: field 'gold_sql': does not run: {e}"
            ) from e
        if result.truncated:
            raise GoldenFileError(
                f"question {question.id}: field 'gold_sql': {result.total_rows:,} rows, more "
                f"than the {EVAL_ROWS:,} an answer can be compared on"
            )
        results[question.id] = ResultSet(result.columns, result.rows)
    return results


def run_questions(
    questions: Sequence[GoldenQuestion],
    engine: Engine,
    warehouse: Warehouse,
    gold: GoldResults,
    *,
    label: str,
    job_prefix: str = "eval",
    clock: Callable[[], float] = time.perf_counter,
) -> Run:
    """Ask every question of `questions` and score the answers."""
    run = Run(label)
    for question in questions:
        outcome = _ask(question, engine, warehouse, gold, f"{job_prefix}-{question.id}", clock)
        logger.info("question=<%s>, run=<%s> | %s %s", question.id, label,
                    "correct" if outcome.correct else "wrong", outcome.match or outcome.reason)
        run.outcomes.append(outcome)
    return run


def _ask(
    question: GoldenQuestion,
    engine: Engine,
    warehouse: Warehouse,
    gold: GoldResults,
    job_id: str,
    clock: Callable[[], float],
) -> Outcome:
    usage = _Usage()
    history: list[Turn] = []
    for number, earlier in enumerate(question.previous, start=1):
        reply = _answer(engine, Request(f"{job_id}-turn{number}", earlier, list(history)))
        if isinstance(reply, Answer):
            usage.add(reply)
            history.append(Turn(earlier, list(reply.sql), reply.text))
        else:
            history.append(Turn(earlier, [], reply.reason))
    started = clock()
    reply = _answer(engine, Request(job_id, question.question, history))
    latency = clock() - started
    if not isinstance(reply, Answer):
        return Outcome(
            id=question.id,
            category=question.category,
            expect=question.expect,
            correct=False,
            reason=reply.reason,
            answered=False,
            error=reply.error,
            cost_usd=usage.cost_usd,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cached_tokens=usage.cached_tokens,
            latency_s=latency,
        )
    usage.add(reply)
    refused = not reply.sql and not reply.code
    verdict = (
        score_refusal(refused)
        if question.refuse
        else _score(question, reply, refused, warehouse, gold)
    )
    return Outcome(
        id=question.id,
        category=question.category,
        expect=question.expect,
        correct=verdict.correct,
        match=verdict.match,
        reason=verdict.reason,
        verified=reply.verified,
        refused=refused,
        model_id=reply.usage.model_id,
        cost_usd=usage.cost_usd,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cached_tokens=usage.cached_tokens,
        latency_s=latency,
        sql=reply.sql[-1] if reply.sql else None,
    )


@dataclass(frozen=True)
class _Failure:
    """No answer: `reason` for the report; `error` unless the engine only lacked a model."""

    reason: str
    error: str | None = None


def _answer(engine: Engine, request: Request) -> Answer | _Failure:
    try:
        return engine.answer(request)
    except NeedsModel:
        return _Failure("not answered: the question needs a model")
    except UserFacingError as e:
        return _error(e.detail)
    except DatabotError as e:
        return _error(str(e))
    except Exception as e:
        logger.exception("job_id=<%s> | the engine failed on an evaluation question",
                         request.job_id)
        return _error(f"{type(e).__name__}: {e}")
    finally:
        # Charts are drawn in a scratch folder, then stored; as `databot ask` does.
        shutil.rmtree(scratch_dir(request.job_id), ignore_errors=True)


def _error(message: str) -> _Failure:
    return _Failure(f"error: {message}", message)


def _score(
    question: GoldenQuestion,
    answer: Answer,
    refused: bool,
    warehouse: Warehouse,
    gold: GoldResults,
) -> Verdict:
    if refused:
        return Verdict(False, reason="declined to answer")
    expected = gold[question.id]
    verdict = Verdict(False, reason="the answer ran no SQL")
    if answer.sql:
        verdict = _score_sql(answer.sql[-1], expected, question.ordered, warehouse)
    if not verdict.correct and answer.code:
        said = "\n".join([answer.text, *(run.output for run in answer.code)])
        figures = match_figures(expected, said)
        if figures.correct:
            return figures
    return verdict


def _score_sql(sql: str, expected: ResultSet, ordered: bool, warehouse: Warehouse) -> Verdict:
    try:
        result = run_guarded(warehouse, sql, max_rows=EVAL_ROWS)
    except DatabotError as e:
        return Verdict(False, reason=f"its SQL does not run again: {e}")
    if result.truncated:
        return Verdict(False, reason=f"{result.total_rows:,} rows, expected {len(expected.rows):,}")
    return match_results(expected, ResultSet(result.columns, result.rows), ordered=ordered)
