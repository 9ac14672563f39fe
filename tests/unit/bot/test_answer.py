"""The Answer contract: JSON round trip, as the HTTP API and the jobs table carry it."""

import json

from bot.answer import Answer, Chart, CodeRun, Table, Usage, footer_parts
from bot.review import Proposal, ReviewParam


def test_answer_survives_a_json_round_trip() -> None:
    answer = Answer(
        text="**42** users signed up.",
        sql=["SELECT count(*) FROM users"],
        table=Table(columns=["n"], rows=[[42]], total_rows=1),
        charts=[Chart(title="Signups", path="/tmp/chart_1.png", url="https://x/chart_1.png")],
        artifacts={"query_1.csv": "results/j1/query_1.csv"},
        code=[CodeRun(code="print(1)", output="1\n")],
        verified=True,
        usage=Usage(model_id="m", input_tokens=10, output_tokens=5, cost_usd=0.01, seconds=1.5),
    )
    assert Answer.from_dict(json.loads(json.dumps(answer.to_dict()))) == answer


def test_a_minimal_answer_has_sane_defaults() -> None:
    answer = Answer.from_dict({"text": "hello"})
    assert answer.sql == [] and answer.table is None and not answer.verified
    assert answer.usage.input_tokens == 0


def test_table_knows_when_it_is_a_preview() -> None:
    assert Table(columns=["a"], rows=[[1], [2]], total_rows=12345).truncated
    assert not Table(columns=["a"], rows=[[1]], total_rows=1).truncated


def test_the_as_of_date_survives_a_round_trip_and_old_answers_still_load() -> None:
    # GIVEN an answer stating its data's as-of date, and one stored before the field existed
    answer = Answer(text="t", as_of="2026-11-20")
    # WHEN each goes through JSON THEN the date is kept, and the old one has none
    assert Answer.from_dict(json.loads(json.dumps(answer.to_dict()))).as_of == "2026-11-20"
    assert Answer.from_dict({"text": "t", "table": {"columns": ["a"], "rows": [[1]],
                                                    "total_rows": 1}}).as_of is None


def test_the_verified_entry_survives_a_round_trip_and_old_answers_have_none() -> None:
    answer = Answer(text="t", verified=True, entry_id="signups_by_week")
    assert Answer.from_dict(json.loads(json.dumps(answer.to_dict()))).entry_id == "signups_by_week"
    assert Answer.from_dict({"text": "t"}).entry_id is None


def test_a_preview_says_which_rows_it_holds_and_cuts_from_that_end() -> None:
    # GIVEN the latest 4 of 35 months, the top 2 of 9 rows, and a whole result
    latest = Table(["month", "n"], [[m, m] for m in range(4)], 35, selection="latest",
                   unit="months")  # fmt: skip
    top = Table(["plan", "revenue"], [["a", 9], ["b", 8]], 9, selection="top", ranked_by="revenue")
    whole = Table(["n"], [[1]], 1)
    # THEN each caption names its rows
    assert latest.caption() == "latest 4 of 35 months"
    assert latest.caption(2) == "latest 2 of 35 months"
    assert top.caption() == "top 2 of 9 rows by revenue"
    assert whole.caption() == "1 row"
    # and a renderer with room for fewer keeps the latest months, or the top rows
    assert latest.shown(2) == [[2, 2], [3, 3]]
    assert top.shown(1) == [["a", 9]]


def test_the_proposal_survives_a_round_trip_and_is_absent_from_other_answers() -> None:
    # GIVEN an agent answer carrying the entry a reviewer would verify, and another without
    proposal = Proposal(question="How many purchases in France?", name="purchases_in_france",
                        sql="SELECT COUNT(*) FROM interactions WHERE country = :country",
                        params=(ReviewParam("country", "enum", "France", "country"),),
                        definition="Purchases.")
    answer = Answer(text="t", proposal=proposal)
    # THEN the proposal is kept through JSON, and the other answer's record has no such key
    assert Answer.from_dict(json.loads(json.dumps(answer.to_dict()))).proposal == proposal
    assert "proposal" not in Answer(text="t").to_dict()
    assert Answer.from_dict({"text": "t"}).proposal is None


def test_notes_and_cache_tokens_survive_the_round_trip() -> None:
    answer = Answer(text="t", notes=["a note"],
                    usage=Usage(cache_read_tokens=7, cache_write_tokens=3))
    again = Answer.from_dict(answer.to_dict())
    assert again.notes == ["a note"]
    assert (again.usage.cache_read_tokens, again.usage.cache_write_tokens) == (7, 3)


def test_the_footer_counts_cached_prompt_tokens_only_when_there_are_any() -> None:
    # GIVEN an answer whose prompt was partly read from the cache and partly written to it
    cached = Answer(text="t", usage=Usage(model_id="m", input_tokens=1_234, output_tokens=512,
                                          cache_read_tokens=9_800, cache_write_tokens=1_000))
    # THEN "in" counts every prompt token, and says how many were cached
    assert "12,034 in (9,800 cached, 1,000 to cache) / 512 out tokens" in footer_parts(
        cached, "J1")
    # AND a read alone, or no caching at all, stays short
    read = Usage(input_tokens=234, output_tokens=5, cache_read_tokens=9_800)
    assert read.tokens_text() == "10,034 in (9,800 cached) / 5 out tokens"
    assert Usage(input_tokens=10, output_tokens=5).tokens_text() == "10 in / 5 out tokens"
