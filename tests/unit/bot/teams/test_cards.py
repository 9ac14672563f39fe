"""An Answer as a Teams Adaptive Card: what it shows, its actions, and Teams' message size."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.answer import Answer, Chart, Table, Usage
from bot.teams.activities import CardAction
from bot.teams.cards import (
    CARD_CONTENT_TYPE,
    MAX_DATA_URI_BYTES,
    MESSAGE_BUDGET_BYTES,
    SQL_ID,
    TEXT_CHARS,
    greeting_message,
    render_answer,
)

LINK = "https://results.example.com/"


def answer(**changes: Any) -> Answer:
    values: dict[str, Any] = {
        "text": "**Revenue** grew 12% in March.",
        "sql": ["SELECT month, revenue FROM sales ORDER BY month"],
        "table": Table(columns=["month", "revenue"],
                       rows=[["2024-01", 1234.5], ["2024-02", 99.0]], total_rows=30,
                       full_result=f"{LINK}full.csv"),
        "charts": [Chart(title="Revenue by month", path="/nowhere.png",
                         url=f"{LINK}chart.png")],
        "artifacts": {"results.csv": f"{LINK}full.csv", "bundle.zip": f"{LINK}bundle.zip"},
        "usage": Usage(model_id="claude", input_tokens=1200, output_tokens=80,
                       cost_usd=0.0123, seconds=4.2),
        "as_of": "2024-03-31",
        **changes,
    }
    return Answer(**values)


def card_of(activity: dict[str, Any]) -> dict[str, Any]:
    (attachment,) = activity["attachments"]
    assert attachment["contentType"] == CARD_CONTENT_TYPE
    content: dict[str, Any] = attachment["content"]
    assert content["type"] == "AdaptiveCard"
    return content


def elements(card: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """Every element of `kind` anywhere in the card, in document order."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == kind:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return found


def texts(card: dict[str, Any]) -> list[str]:
    return [block["text"] for block in elements(card, "TextBlock")]


def test_the_card_shows_text_sql_table_chart_links_and_footer() -> None:
    card = card_of(render_answer(answer(), job_id="job-1").card)
    assert card["version"] == "1.5"
    body_texts = texts(card)
    assert body_texts[0] == "**Revenue** grew 12% in March."
    # The SQL is hidden until the toggle shows it
    (sql,) = [e for e in elements(card, "Container") if e.get("id") == SQL_ID]
    assert sql["isVisible"] is False
    assert elements(sql, "CodeBlock")[0]["codeSnippet"].startswith("SELECT month")
    (toggle,) = elements(card, "Action.ToggleVisibility")
    assert toggle["targetElements"] == [SQL_ID]
    # The table: a header row, then the rows as the terminal shows them, numbers right
    (table,) = elements(card, "Table")
    assert table["firstRowAsHeaders"] is True
    rows = [[cell["items"][0]["text"] for cell in row["cells"]] for row in table["rows"]]
    assert rows == [["month", "revenue"], ["2024-01", "1,234.50"], ["2024-02", "99.00"]]
    assert [c["horizontalCellContentAlignment"] for c in table["columns"]] == ["Left", "Right"]
    assert f"first 2 of 30 rows · [full result]({LINK}full.csv)" in body_texts
    # The chart inline, the files as buttons
    assert elements(card, "Image") == [{"type": "Image", "url": f"{LINK}chart.png",
                                        "altText": "Revenue by month"}]
    links = {a["title"]: a["url"] for a in elements(card, "Action.OpenUrl")}
    assert links == {"results.csv": f"{LINK}full.csv", "bundle.zip": f"{LINK}bundle.zip"}
    # The footer
    assert ("data as of 2024-03-31 · model claude · 1,200 in / 80 out tokens · $0.0123 · "
            "4.2 s · ref job-1") in body_texts


def test_an_agent_answer_offers_votes_and_verify() -> None:
    card = card_of(render_answer(answer(), job_id="job-1").card)
    actions = elements(card, "Action.Execute")
    assert [(a["title"], a["verb"], a["data"]) for a in actions] == [
        ("👍", "feedback", {"action": "feedback", "job_id": "job-1", "value": "up"}),
        ("👎", "feedback", {"action": "feedback", "job_id": "job-1", "value": "down"}),
        ("Verify", "verify", {"action": "verify", "job_id": "job-1"}),
    ]
    # The front door reads each back as the action it is
    assert [CardAction.from_data(a["data"], a["verb"]).value for a in actions] == [
        "up", "down", None]


def test_a_verified_answer_offers_retire_and_says_it_is_verified() -> None:
    card = card_of(render_answer(answer(verified=True, entry_id="monthly_revenue"),
                                 job_id="job-2").card)
    assert texts(card)[0].startswith("✅ **Verified query**")
    actions = elements(card, "Action.Execute")
    assert [a["verb"] for a in actions] == ["feedback", "feedback", "retire"]
    assert CardAction.from_data(actions[-1]["data"], "retire") == CardAction(
        "retire", "job-2", entry_id="monthly_revenue")


def test_a_small_chart_without_a_link_is_inlined(tmp_path: Path) -> None:
    png = tmp_path / "chart.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    big = tmp_path / "big.png"
    big.write_bytes(b"\0" * (MAX_DATA_URI_BYTES + 1))
    card = card_of(render_answer(answer(charts=[Chart("Small", str(png)),
                                                Chart("Big", str(big))]), job_id="j").card)
    (image,) = elements(card, "Image")
    assert image["url"].startswith("data:image/png;base64,iVBORw0KGgo")
    assert image["altText"] == "Small"


def test_local_files_are_named_rather_than_linked() -> None:
    card = card_of(render_answer(answer(artifacts={"results.csv": "/tmp/out/results.csv"}),
                                 job_id="j").card)
    assert elements(card, "Action.OpenUrl") == []
    assert "results.csv: /tmp/out/results.csv" in texts(card)


def size(activity: dict[str, Any]) -> int:
    return len(json.dumps(activity, ensure_ascii=False).encode())


def wide_table(rows: int) -> Table:
    columns = [f"column_{i}" for i in range(20)]
    return Table(columns=columns, rows=[[f"value {r}-{c} " * 3 for c in range(20)]
                                        for r in range(rows)], total_rows=rows * 10,
                 full_result=f"{LINK}full.csv")


def test_a_large_table_is_shortened_to_fit_one_message() -> None:
    reply = render_answer(answer(table=wide_table(20)), job_id="j")
    assert size(reply.card) <= MESSAGE_BUDGET_BYTES
    card = card_of(reply.card)
    (table,) = elements(card, "Table")
    shown = len(table["rows"]) - 1
    assert 1 <= shown < 20
    # The caption says how many rows are shown, and links the whole result
    assert f"first {shown} of 200 rows · [full result]({LINK}full.csv)" in texts(card)


def test_what_cannot_fit_is_left_out_and_said() -> None:
    # A table too wide for even one row, and SQL far beyond the budget
    table = Table(columns=["c"], rows=[["x" * 30_000]], total_rows=1)
    reply = render_answer(answer(table=table, sql=["SELECT 1 -- " + "y" * 50_000]),
                          job_id="j")
    assert size(reply.card) <= MESSAGE_BUDGET_BYTES
    card = card_of(reply.card)
    assert elements(card, "Table") == []
    (sql,) = elements(card, "CodeBlock")
    assert sql["codeSnippet"].endswith("-- … cut: the full SQL is in the files")
    assert any(text.startswith("Left out to fit a Teams message: the table preview")
               for text in texts(card))


def test_long_text_continues_in_further_messages() -> None:
    paragraphs = [f"Paragraph {i}: " + "word " * 400 for i in range(20)]
    text = "\n\n".join(paragraphs)
    reply = render_answer(answer(text=text), job_id="j")
    assert reply.rest
    for message in [reply.card, *reply.rest]:
        assert size(message) <= MESSAGE_BUDGET_BYTES
    first = texts(card_of(reply.card))[0]
    assert len(first) <= TEXT_CHARS
    # Nothing is lost: the pieces put together are the text
    shown = [first, *(message["text"] for message in reply.rest)]
    assert " ".join(" ".join(shown).split()) == " ".join(text.split())


@pytest.mark.parametrize("prompts", [["What was revenue last month?", "Top customers"], []])
def test_a_greeting_offers_the_suggested_prompts(prompts: list[str]) -> None:
    card = card_of(greeting_message("Hi!", prompts))
    assert texts(card) == ["Hi!"]
    asked = [a["data"]["msteams"] for a in elements(card, "Action.Submit")]
    assert asked == [{"type": "imBack", "value": prompt} for prompt in prompts]


def test_the_answer_notes_are_in_the_footer() -> None:
    card = card_of(render_answer(answer(notes=["80 % of your daily budget used"]),
                                 job_id="job-1").card)
    assert any(text.startswith("data as of 2024-03-31 · 80 % of your daily budget used · model")
               for text in texts(card))
