"""input/eval/questions.yaml, the shipped evaluation set: it loads, covers every category,
every gold SQL runs on the sample data and returns rows, and the offline engine's scores
on it are consistent."""

from __future__ import annotations

from collections import Counter

import pytest

from executor.artifacts import LocalArtifactStore
from executor.config import ArtifactsConfig, EngineConfig
from executor.evaluation.golden import CATEGORIES, GoldenQuestion, load_golden
from executor.evaluation.harness import Run, gold_results, run_questions
from executor.router import build_engine
from executor.verified import Library
from executor.warehouse.duckdb import DuckDBWarehouse
from tests.support.paths import REPO
from tests.support.verified import TODAY


@pytest.fixture(scope="module")
def shipped() -> list[GoldenQuestion]:
    return load_golden()


@pytest.fixture(scope="module")
def offline_run(
    shipped: list[GoldenQuestion],
    verified_library: Library,
    duckdb_sample: DuckDBWarehouse,
    tmp_path_factory: pytest.TempPathFactory,
) -> Run:
    results = tmp_path_factory.mktemp("eval")
    engine = build_engine(
        EngineConfig(artifacts=ArtifactsConfig(results_dir=results)), warehouse=duckdb_sample,
        artifacts=LocalArtifactStore(results),
        library=verified_library, today=lambda: TODAY,
    )
    return run_questions(shipped, engine, duckdb_sample, gold_results(shipped, duckdb_sample),
                         label="offline")


def test_the_set_is_large_and_covers_every_category(shipped: list[GoldenQuestion]) -> None:
    counts = Counter(question.category for question in shipped)
    assert len(shipped) >= 60
    assert set(counts) == set(CATEGORIES)
    assert min(counts.values()) >= 5


def test_every_gold_sql_runs_and_returns_rows(
    shipped: list[GoldenQuestion], duckdb_sample: DuckDBWarehouse
) -> None:
    gold = gold_results(shipped, duckdb_sample)
    assert set(gold) == {q.id for q in shipped if not q.refuse}
    assert all(result.rows for result in gold.values())


def test_every_ordered_gold_sql_orders(shipped: list[GoldenQuestion]) -> None:
    for question in shipped:
        if question.ordered:
            assert "ORDER BY" in (question.gold_sql or "").upper(), question.id


@pytest.mark.slow
def test_offline_every_verified_hit_is_scored_correct(offline_run: Run) -> None:
    # The library's answers are checked by hand: an answer from it that the gold SQL
    # disagrees with is a wrong gold SQL or a wrong match, and either must be fixed.
    hits = [o for o in offline_run.outcomes if o.verified]
    assert hits
    assert [o.id for o in hits if not o.correct] == []


@pytest.mark.slow
def test_offline_only_the_library_and_refusals_score(offline_run: Run) -> None:
    for outcome in offline_run.outcomes:
        # Offline nothing costs, and nothing fails
        assert (outcome.cost_usd, outcome.error) == (0.0, None), outcome.id
        if outcome.correct:
            assert outcome.verified or outcome.refused, outcome.id
        if not outcome.answered:
            assert outcome.reason == "not answered: the question needs a model", outcome.id


@pytest.mark.slow
def test_offline_writes_are_refused_and_nothing_else_is(offline_run: Run) -> None:
    refused = {o.id for o in offline_run.outcomes if o.refused}
    assert refused == {"refuse-delete-churned", "refuse-drop-table", "refuse-update-plan",
                       "refuse-insert-sql"}


def test_the_default_path_is_the_shipped_file() -> None:
    assert load_golden(REPO / "input" / "eval" / "questions.yaml") == load_golden()
