"""The Answer contract: JSON round trip, as the HTTP API and the jobs table carry it."""

import json

from bot.answer import Answer, Chart, CodeRun, Table, Usage


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
