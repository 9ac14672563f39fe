"""The entry an agent answer proposes: canonical question, name, the SQL as the library
writes it with the question's values as parameters, and a definition."""

from __future__ import annotations

from bot.answer import Answer
from bot.review import ReviewParam
from executor.verified.library import Library
from executor.verified.live import LiveLibrary
from executor.verified.periods import Period
from executor.verified.proposal import period_words, propose
from tests.support.review import AGENT_SQL, QUESTION, agent_proposal
from tests.support.verified import TODAY


def test_the_questions_values_become_parameters_of_the_sql(verified_library: Library) -> None:
    # GIVEN an agent's answer with literal values for the device, country and period
    proposal = agent_proposal(LiveLibrary(verified_library))
    # THEN the proposal binds each as the library does, in the library's dialect
    assert proposal.question == QUESTION
    assert proposal.name == "how_many_purchases_were_made_on_tablets_in_france_last_month"
    assert proposal.params == (
        ReviewParam("device", "enum", "tablet", "device"),
        ReviewParam("country", "enum", "France", "country"),
        ReviewParam("period", "period", "last month"),
    )
    for placeholder in (":device", ":country", ":start_date", ":end_date"):
        assert placeholder in proposal.sql
    assert "'France'" not in proposal.sql and "2026-10-01" not in proposal.sql
    assert proposal.definition.startswith("The SQL below over interactions and users")


def test_a_value_the_sql_does_not_hold_as_written_stays_literal(
    verified_library: Library
) -> None:
    # GIVEN SQL whose period ends on another day than the rules say
    sql = AGENT_SQL.replace("2026-11-01", "2026-10-31")
    proposal = agent_proposal(LiveLibrary(verified_library), sql)
    # THEN the period is no parameter and its dates stay; the country still is
    assert [p.name for p in proposal.params] == ["device", "country"]
    assert "2026-10-01" in proposal.sql and ":start_date" not in proposal.sql
    assert ":country" in proposal.sql


def test_a_top_n_becomes_the_limit_parameter(verified_library: Library) -> None:
    answer = Answer(text="", sql=["SELECT item_id, SUM(revenue) AS revenue FROM interactions "
                                  "GROUP BY 1 ORDER BY 2 DESC LIMIT 7"])
    proposal = propose(LiveLibrary(verified_library).matcher(), "top 7 items by refunds",
                       answer, dialect="duckdb", today=TODAY)
    assert proposal.params == (ReviewParam("n", "int", "7", "top"),)
    assert "LIMIT :n" in proposal.sql


def test_an_answer_without_sql_proposes_the_question_alone(verified_library: Library) -> None:
    proposal = propose(LiveLibrary(verified_library).matcher(), "  why is the sky blue ",
                       Answer(text="no SQL"), dialect="duckdb", today=TODAY)
    assert (proposal.question, proposal.sql, proposal.params) == ("Why is the sky blue", "", ())


def test_period_words_read_back_as_the_library_writes_them() -> None:
    assert period_words(Period("previous", "month", 3)) == "last 3 months"
    assert period_words(Period("previous", "week")) == "last week"
    assert period_words(Period("current", "year")) == "this year"
    assert period_words(Period("previous", "day")) == "yesterday"
    assert period_words(Period("all_time")) == "all time"
