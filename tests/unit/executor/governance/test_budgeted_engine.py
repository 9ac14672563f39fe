"""Spend limits on the engine every caller uses, with a scripted model (each call: 1,000
input and 100 output tokens on Claude Sonnet 4, $0.0045): a question over a limit is
refused before any model call, verified answers stay free, an answer stops at the limit,
the footer warns from 80 %, days and months start afresh, and concurrent answers never
overspend by more than one answer."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from bot.answer import Answer
from bot.asker import Asker
from executor.artifacts import LocalArtifactStore
from executor.config import EngineConfig, ModelConfig
from executor.engine import Request
from executor.errors import ModelUnavailable
from executor.governance.budgets import Budgets, Limits, Policy
from executor.governance.spend import DynamoLedger, Ledger, Scope, SqliteLedger
from executor.router import RoutedEngine, build_engine
from executor.verified import Library
from executor.warehouse.duckdb import DuckDBWarehouse
from tests.support.scripted_model import ScriptedModel, client_error, run_sql, says
from tests.support.usage_table import Serialized, create_usage_table
from tests.support.verified import TODAY

CALL_USD = 0.0045
ASKER = Asker(platform="slack", user="U0001", workspace="T0001", channel="C0001")
QUESTION = "revenue per user by country"  # not in the verified library
VERIFIED = "how many users are on each plan?"
SQL = "SELECT country, SUM(revenue) AS revenue FROM interactions JOIN users USING (user_id) " \
      "GROUP BY 1"


class Clock:
    """The budgets' clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 30, 15, 0, tzinfo=UTC))


@pytest.fixture
def ledger(tmp_path: Path) -> SqliteLedger:
    return SqliteLedger(tmp_path / "results" / "usage.sqlite3")


class Setup:
    def __init__(self, config: EngineConfig, library: Library, warehouse: DuckDBWarehouse,
                 ledger: Ledger, clock: Clock) -> None:
        self.config, self.library, self.warehouse = config, library, warehouse
        self.ledger, self.clock = ledger, clock

    def engine(self, model: ScriptedModel, policy: Policy, *, estimate: float = 0.001
               ) -> RoutedEngine:
        return build_engine(
            replace(self.config, model=ModelConfig(provider="bedrock")),
            warehouse=self.warehouse,
            artifacts=LocalArtifactStore(self.config.artifacts.results_dir),
            bedrock_client=model,
            library=self.library,
            today=lambda: TODAY,
            budgets=Budgets(policy, self.ledger, estimate_usd=estimate, now=self.clock),
        )

    def spent(self, scope: str = "user#T0001#U0001#2026-11") -> float:
        return self.ledger.read([Scope.parse(scope)])[0].cost_usd


@pytest.fixture
def setup(offline_config: EngineConfig, verified_library: Library,
          duckdb_sample: DuckDBWarehouse, ledger: SqliteLedger, clock: Clock) -> Setup:
    return Setup(offline_config, verified_library, duckdb_sample, ledger, clock)


def ask(engine: RoutedEngine, question: str = QUESTION, asker: Asker | None = ASKER,
        job_id: str = "j1") -> Answer:
    return engine.answer(Request(job_id=job_id, question=question, asker=asker))


def test_a_second_question_over_a_tiny_limit_is_refused_without_a_model_call(
    setup: Setup,
) -> None:
    # GIVEN a daily limit below one model call, and a model scripted for one answer only
    model = ScriptedModel([says("Revenue per user is highest in Japan.")])
    engine = setup.engine(model, Policy(user=Limits(daily=0.004)))
    # WHEN a first question is asked THEN the model answers it (the limit was not reached)
    first = ask(engine)
    assert first.text.startswith("Revenue per user") and len(model.requests) == 1
    assert setup.spent() == pytest.approx(CALL_USD)
    # WHEN a second one is asked THEN it is refused in plain words, with no model call
    second = ask(engine, job_id="j2")
    assert second.text.startswith(
        "You have reached your daily budget: $0.0045 of $0.0040 used, so I cannot ask the AI "
        "model now. It resets at 00:00 UTC.")
    assert len(model.requests) == 1 and second.usage.cost_usd == 0


def test_a_channel_limit_refuses_everyone_in_the_channel(setup: Setup) -> None:
    model = ScriptedModel([says("An answer.")])
    engine = setup.engine(model, Policy(channel=Limits(monthly=0.004)))
    ask(engine)
    other = Asker(platform="slack", user="U0002", workspace="T0001", channel="C0001")
    refused = ask(engine, asker=other, job_id="j2")
    assert refused.text.startswith("This channel has reached its monthly budget: $0.0045 of "
                                   "$0.0040 used") and "It resets on 1 December." in refused.text
    assert len(model.requests) == 1


def test_verified_answers_are_free_and_given_over_budget(setup: Setup) -> None:
    # GIVEN a person who has spent their whole (zero) budget
    model = ScriptedModel([])
    engine = setup.engine(model, Policy(user=Limits(daily=0.0)))
    # WHEN they ask a verified question THEN it is answered, free, without the model
    answer = ask(engine, VERIFIED)
    assert answer.verified is True and model.requests == [] and answer.notes == []
    # AND a model question is refused, pointing at the free verified questions
    refused = ask(engine, job_id="j2")
    assert "Questions answered from verified queries are free and still work:" in refused.text
    # AND both verified answers and refusals are told apart in the counts
    [counts] = setup.ledger.read([Scope.parse("user#T0001#U0001#2026-11")])
    assert (counts.answers, counts.verified_answers, counts.cost_usd) == (1, 1, 0)


def test_an_answer_reaching_the_limit_stops_before_its_next_call(setup: Setup) -> None:
    # GIVEN a limit that one call does not reach and two calls pass
    model = ScriptedModel([run_sql(SQL), says("Japan leads."), says("unused")])
    engine = setup.engine(model, Policy(user=Limits(daily=0.006)))
    # WHEN the agent would check its draft with a third call
    answer = ask(engine)
    # THEN it stops before it, keeps the draft and says why
    assert len(model.requests) == 2
    assert answer.text.startswith("Japan leads.")
    assert ("I stopped before finishing: I reached your daily budget of $0.0060 ($0.0090 used; "
            "it resets at 00:00 UTC).") in answer.text
    assert answer.notes == ["150 % of your daily budget used"]
    assert setup.spent() == pytest.approx(2 * CALL_USD)


@pytest.mark.parametrize(("limit", "notes"), [
    (0.005, ["90 % of your daily budget used"]),
    (0.0056, ["80 % of your daily budget used"]),
    (0.01, []),
])
def test_the_footer_says_when_80_percent_of_a_limit_is_used(setup: Setup, limit: float,
                                                            notes: list[str]) -> None:
    engine = setup.engine(ScriptedModel([says("An answer.")]), Policy(user=Limits(daily=limit)))
    assert ask(engine).notes == notes


def test_a_new_day_is_a_fresh_daily_counter(setup: Setup) -> None:
    model = ScriptedModel([says("First."), says("Next day.")])
    engine = setup.engine(model, Policy(user=Limits(daily=0.004)))
    ask(engine)
    assert "It resets at 00:00 UTC." in ask(engine, job_id="j2").text
    # WHEN midnight UTC passes THEN the person may ask again
    setup.clock.now = datetime(2026, 12, 1, 0, 0, 1, tzinfo=UTC)
    assert ask(engine, job_id="j3").text == "Next day."
    assert setup.spent("user#T0001#U0001#2026-12-01") == pytest.approx(CALL_USD)


def test_a_new_month_is_a_fresh_monthly_counter(setup: Setup) -> None:
    model = ScriptedModel([says("November."), says("December.")])
    engine = setup.engine(model, Policy(user=Limits(monthly=0.004)))
    setup.clock.now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    ask(engine)
    # A later day of the same month is still over the monthly limit.
    setup.clock.now = datetime(2026, 11, 30, 23, 59, tzinfo=UTC)
    assert "It resets on 1 December." in ask(engine, job_id="j2").text
    setup.clock.now = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    assert ask(engine, job_id="j3").text == "December."


def test_a_request_without_an_asker_has_no_budget(setup: Setup) -> None:
    model = ScriptedModel([says("An answer.")])
    engine = setup.engine(model, Policy(user=Limits(daily=0.0), channel=Limits(daily=0.0)))
    assert ask(engine, asker=None).text == "An answer."
    assert setup.ledger.month("2026-11") == []


def test_a_failed_model_call_leaves_nothing_reserved(setup: Setup) -> None:
    # GIVEN models (the chain has two) that refuse the request
    refused = client_error("ValidationException", "bad request")
    engine = setup.engine(ScriptedModel([refused, refused]), Policy(user=Limits(daily=1.0)),
                          estimate=0.05)
    with pytest.raises(ModelUnavailable):
        ask(engine)
    # THEN the reservation made before the call was given back
    [counts] = setup.ledger.read([Scope.parse("user#T0001#U0001#2026-11-30")])
    assert counts.committed_usd == pytest.approx(0.0)


@pytest.fixture
def dynamo_ledger() -> Iterator[DynamoLedger]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_usage_table(client, "usage")
        yield DynamoLedger("usage", client=Serialized(client))


@pytest.mark.parametrize("store", ["dynamodb", "sqlite"])
def test_concurrent_answers_never_overspend_by_more_than_one_answer(
    setup: Setup, request: pytest.FixtureRequest, store: str,
) -> None:
    # GIVEN a channel limit of 3.5 answers, one model call each, estimated at its real cost
    if store == "dynamodb":
        setup.ledger = request.getfixturevalue("dynamo_ledger")
    limit = 3.5 * CALL_USD
    model = ScriptedModel([says("An answer.")] * 12, delay_s=0.05)
    engine = setup.engine(model, Policy(channel=Limits(daily=limit)), estimate=CALL_USD)
    # WHEN ten people in the channel ask at the same moment
    start = threading.Barrier(10)
    answers: list[Answer] = []

    def asking(number: int) -> None:
        asker = Asker(platform="slack", user=f"U{number:04d}", workspace="T0001",
                      channel="C0001")
        start.wait()
        answers.append(ask(engine, asker=asker, job_id=f"j{number}"))

    threads = [threading.Thread(target=asking, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # THEN the channel spent at most one answer past its limit, and exactly what was called
    spent = setup.spent("channel#T0001#C0001#2026-11-30")
    assert spent <= limit + CALL_USD
    assert spent == pytest.approx(len(model.requests) * CALL_USD)
    answered = [a for a in answers if a.text == "An answer."]
    assert len(answered) == len(model.requests) and len(answers) == 10
    assert all("daily budget" in a.text for a in answers if a.text != "An answer.")



def test_each_call_s_cache_reads_and_writes_are_counted(setup: Setup) -> None:
    # GIVEN a model call that read and wrote its prompt cache
    response = says("An answer.")
    response["usage"] |= {"cacheReadInputTokens": 3000, "cacheWriteInputTokens": 700}
    engine = setup.engine(ScriptedModel([response]), Policy())
    # WHEN it answers THEN the ledger holds the call's tokens, cost and the answer
    ask(engine)
    [counts] = setup.ledger.read([Scope.parse("channel#T0001#C0001#2026-11-30")])
    assert (counts.input_tokens, counts.output_tokens, counts.cache_read_tokens,
            counts.cache_write_tokens, counts.calls, counts.answers) == (1000, 100, 3000, 700,
                                                                        1, 1)
    # Claude Sonnet's cache rates: reads at $0.30, writes at $3.75 per million tokens
    assert counts.cost_usd == pytest.approx(CALL_USD + (3000 * 0.30 + 700 * 3.75) / 1e6)


def test_without_a_table_spend_is_counted_in_the_engines_results_folder(
    offline_config: EngineConfig, verified_library: Library, duckdb_sample: DuckDBWarehouse,
) -> None:
    # GIVEN the configured engine, its results folder set and no USAGE_TABLE
    engine = build_engine(offline_config, warehouse=duckdb_sample, library=verified_library,
                          today=lambda: TODAY)
    # WHEN someone is answered THEN the answer is counted in that folder's ledger, in the
    # month of the clock (spend is counted by when it happens, not by the data's date)
    assert ask(engine, VERIFIED).verified
    month = datetime.now(UTC).strftime("%Y-%m")
    results = offline_config.artifacts.results_dir
    [counts] = SqliteLedger(results / "usage.sqlite3").read(
        [Scope.parse(f"user#T0001#U0001#{month}")])
    assert (counts.answers, counts.verified_answers) == (1, 1)
