"""The harness: questions through the engine (verified first, then a scripted model), each
answer's last SQL run again and scored against its gold result."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import pytest

from bot.answer import Answer, CodeRun, Usage
from executor.artifacts import LocalArtifactStore
from executor.config import EngineConfig, ModelConfig
from executor.engine import Request, Turn
from executor.errors import WarehouseError
from executor.evaluation.golden import GoldenFileError, GoldenQuestion
from executor.evaluation.harness import gold_results, run_questions
from executor.router import RoutedEngine, build_engine
from executor.verified import Library
from executor.warehouse.duckdb import DuckDBWarehouse
from tests.support.scripted_model import ScriptedModel, answer_script
from tests.support.verified import TODAY

PLANS = GoldenQuestion("users-by-plan", "easy", "How many users are on each plan?", "answer",
                       gold_sql="SELECT plan, COUNT(*) FROM users GROUP BY plan")
AGE = GoldenQuestion("average-age", "easy", "What is the average age of our users?", "answer",
                     gold_sql="SELECT AVG(age) FROM users")
DELETE = GoldenQuestion("refuse-delete", "refusal", "Delete all users who churned.", "refuse")
CHURNED_AGE = GoldenQuestion(
    "followup-churned-age", "follow_up", "And of those who churned?", "answer",
    gold_sql="SELECT AVG(age) FROM users WHERE churned_at IS NOT NULL",
    previous=("What is the average age of our users?",),
)
AGE_SQL = "SELECT AVG(age) AS average_age FROM users"
CHURNED_AGE_SQL = "SELECT ROUND(AVG(age), 1) FROM users WHERE NOT is_active"


def _router(
    config: EngineConfig, library: Library, warehouse: DuckDBWarehouse,
    model: ScriptedModel | None = None, model_id: str = "model-a",
) -> RoutedEngine:
    """The router, offline or with `model` as the Bedrock client of `model_id`."""
    provider = "offline" if model is None else "bedrock"
    return build_engine(
        replace(config, model=ModelConfig(provider=provider, model_ids=(model_id,))),
        warehouse=warehouse,
        artifacts=LocalArtifactStore(config.artifacts.results_dir),
        bedrock_client=model,
        library=library,
        today=lambda: TODAY,
    )


@dataclass
class CannedEngine:
    """Answers each question with the Answer (or raises the error) given for it."""

    replies: dict[str, Answer | Exception]
    requests: list[Request] = field(default_factory=list)

    def answer(self, request: Request) -> Answer:
        self.requests.append(request)
        reply = self.replies[request.question]
        if isinstance(reply, Exception):
            raise reply
        return reply


def _ticks(*values: float) -> Iterator[float]:
    yield from values


def test_verified_first_then_the_model_and_a_refusal(
    offline_config: EngineConfig, verified_library: Library, duckdb_sample: DuckDBWarehouse
) -> None:
    # GIVEN the router with a scripted model that answers the one question the library lacks
    model = ScriptedModel(answer_script(AGE_SQL, "Users are **48.4** years old on average."))
    engine = _router(offline_config, verified_library, duckdb_sample, model)
    questions = [PLANS, AGE, DELETE]
    # WHEN the set is run
    run = run_questions(questions, engine, duckdb_sample, gold_results(questions, duckdb_sample),
                        label="model-a")
    plans, age, delete = run.outcomes
    # THEN the library answers its question, for free; the model the other; the write is refused
    assert (plans.correct, plans.verified, plans.match, plans.cost_usd) == (True, True, "subset", 0)
    assert (age.correct, age.verified, age.match, age.model_id) == (True, False, "exact", "model-a")
    assert (age.input_tokens, age.output_tokens) == (3000, 300)
    assert age.sql == AGE_SQL
    assert (delete.correct, delete.refused, delete.match) == (True, True, "refused")
    assert model.remaining == 0 and {r["modelId"] for r in model.requests} == {"model-a"}


def test_a_follow_up_is_asked_after_its_earlier_turns_with_them_as_history(
    offline_config: EngineConfig, verified_library: Library, duckdb_sample: DuckDBWarehouse
) -> None:
    # GIVEN a model that answers the earlier turn, then the follow-up
    model = ScriptedModel([
        *answer_script(AGE_SQL, "Users are **48.4** years old on average."),
        *answer_script(CHURNED_AGE_SQL, "Churned users are **48.5** on average."),
    ])
    engine = _router(offline_config, verified_library, duckdb_sample, model)
    # WHEN the follow-up is evaluated
    run = run_questions([CHURNED_AGE], engine, duckdb_sample,
                        gold_results([CHURNED_AGE], duckdb_sample), label="model-a")
    # THEN the model saw the earlier question, its answer and SQL before the follow-up
    follow_up = model.requests[3]["messages"]
    assert follow_up[0]["content"][0]["text"] == "What is the average age of our users?"
    assert AGE_SQL in follow_up[1]["content"][0]["text"]
    assert follow_up[2]["content"][0]["text"] == "And of those who churned?"
    # AND the answer is scored (rounded to 1 decimal), its cost counting both turns
    outcome = run.outcomes[0]
    assert outcome.correct and outcome.input_tokens == 6000


def test_history_carries_each_earlier_answer_and_failure() -> None:
    # GIVEN an engine that fails the first earlier turn and answers the second
    question = replace(CHURNED_AGE, previous=("first?", "second?"))
    engine = CannedEngine({
        "first?": WarehouseError("no such column"),
        "second?": Answer(text="Two.", sql=["SELECT 2"]),
        question.question: Answer(text="Nothing to run."),
    })
    run_questions([question], engine, warehouse=None, gold={}, label="x")  # type: ignore[arg-type]
    # THEN each request holds the turns before it, failures included
    assert [r.history for r in engine.requests] == [
        [],
        [Turn("first?", [], "error: no such column")],
        [Turn("first?", [], "error: no such column"), Turn("second?", ["SELECT 2"], "Two.")],
    ]


def test_offline_a_question_without_a_verified_query_is_not_answered(
    offline_config: EngineConfig, verified_library: Library, duckdb_sample: DuckDBWarehouse
) -> None:
    engine = _router(offline_config, verified_library, duckdb_sample)
    run = run_questions([AGE], engine, duckdb_sample, gold_results([AGE], duckdb_sample),
                        label="offline", clock=_ticks(1.0, 1.25).__next__)
    outcome = run.outcomes[0]
    assert (outcome.correct, outcome.answered, outcome.error) == (False, False, None)
    assert outcome.reason == "not answered: the question needs a model"
    assert outcome.latency_s == 0.25


def test_engine_errors_are_recorded_and_the_run_goes_on(duckdb_sample: DuckDBWarehouse) -> None:
    engine = CannedEngine({
        PLANS.question: RuntimeError("boom"),
        AGE.question: WarehouseError("the database timed out"),
        DELETE.question: Answer(text="Deleted."),
    })
    questions = [PLANS, AGE, DELETE]
    run = run_questions(questions, engine, duckdb_sample,
                        gold_results(questions, duckdb_sample), label="x")
    plans, age, delete = run.outcomes
    assert plans.error == "RuntimeError: boom" and not plans.answered
    assert age.error == "the database timed out" and age.reason == "error: the database timed out"
    # A reply that ran no query is a refusal, whatever it says
    assert delete.correct and delete.refused


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (Answer(text="I would rather not."), "declined to answer"),
        (Answer(text="x", sql=["SELECT no_such_column FROM users"]), "its SQL does not run again"),
        (Answer(text="x", sql=["SELECT age FROM users"]), "5,000 rows, expected 1"),
        (Answer(text="x", sql=["SELECT MAX(age) FROM users"]), "the values differ"),
    ],
)
def test_wrong_answers_say_why(
    duckdb_sample: DuckDBWarehouse, answer: Answer, reason: str
) -> None:
    engine = CannedEngine({AGE.question: answer})
    run = run_questions([AGE], engine, duckdb_sample, gold_results([AGE], duckdb_sample),
                        label="x")
    assert not run.outcomes[0].correct and run.outcomes[0].reason.startswith(reason)


def test_a_python_answer_may_state_the_gold_figures(duckdb_sample: DuckDBWarehouse) -> None:
    # GIVEN an answer whose last SQL fetched raw rows and whose Python printed the figure
    answer = Answer(
        text="The average age is shown below.",
        sql=["SELECT age FROM users"],
        code=[CodeRun(code="print(df.age.mean())", output="48.4266\n")],
        usage=Usage(model_id="model-a", cost_usd=0.02),
    )
    run = run_questions([AGE], CannedEngine({AGE.question: answer}), duckdb_sample,
                        gold_results([AGE], duckdb_sample), label="x")
    outcome = run.outcomes[0]
    assert outcome.correct and outcome.match == "figures" and outcome.cost_usd == 0.02


def test_cached_prompt_tokens_count_as_prompt_tokens_and_are_named() -> None:
    # GIVEN a follow-up whose two turns read most of their prompt from the cache
    question = replace(CHURNED_AGE, previous=("first?",))
    usage = Usage(model_id="model-a", input_tokens=200, output_tokens=50,
                  cache_read_tokens=1_500, cache_write_tokens=300)
    engine = CannedEngine({"first?": Answer(text="One.", usage=usage),
                           question.question: Answer(text="Two.", usage=usage)})
    run = run_questions([question], engine, warehouse=None, gold={}, label="x")  # type: ignore[arg-type]
    # THEN every prompt token counts, so runs with and without caching compare
    outcome = run.outcomes[0]
    assert (outcome.input_tokens, outcome.cached_tokens, outcome.output_tokens) == (
        2 * 2_000, 2 * 1_500, 2 * 50)


def test_a_gold_sql_that_fails_names_its_question(duckdb_sample: DuckDBWarehouse) -> None:
    broken = replace(AGE, gold_sql="SELECT nope FROM users")
    with pytest.raises(GoldenFileError, match="question average-age: field 'gold_sql': does not"):
        gold_results([broken], duckdb_sample)


def test_a_gold_result_too_large_to_compare_is_refused(duckdb_sample: DuckDBWarehouse) -> None:
    huge = replace(AGE, gold_sql="SELECT * FROM interactions")
    with pytest.raises(GoldenFileError, match="106,640 rows, more than the 10,000"):
        gold_results([huge], duckdb_sample)


def test_two_models_compared_on_the_same_questions(
    offline_config: EngineConfig, verified_library: Library, duckdb_sample: DuckDBWarehouse
) -> None:
    # GIVEN one scripted client playing two models in turn: A right, B wrong
    model = ScriptedModel([
        *answer_script(AGE_SQL, "48.4 years."),
        *answer_script("SELECT MIN(age) FROM users", "18 years."),
    ])
    questions = [PLANS, AGE]
    gold = gold_results(questions, duckdb_sample)
    runs = [
        run_questions(questions,
                      _router(offline_config, verified_library, duckdb_sample, model, model_id),
                      duckdb_sample, gold, label=model_id, job_prefix=model_id)
        for model_id in ("model-a", "model-b")
    ]
    # THEN both runs answer the verified question alike, and differ on the model's
    assert [[o.correct for o in run.outcomes] for run in runs] == [[True, True], [True, False]]
    assert [run.outcomes[1].model_id for run in runs] == ["model-a", "model-b"]
    assert [r["modelId"] for r in model.requests] == ["model-a"] * 3 + ["model-b"] * 3
