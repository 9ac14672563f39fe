"""Answer → Block Kit, and Markdown → mrkdwn: content and Slack's limits."""

from __future__ import annotations

import json

import pytest

from bot.answer import Answer, Chart, CodeRun, Table, Usage
from bot.slack.feedback import FEEDBACK_ACTION
from bot.slack.mrkdwn import split_text, to_mrkdwn
from bot.slack.render import (
    MAX_BLOCKS,
    MAX_MESSAGE_CHARS,
    MAX_SECTION_CHARS,
    SlackReply,
    question_message,
    render_answer,
)


@pytest.mark.parametrize(
    ("markdown", "mrkdwn"),
    [
        ("**bold** and *italic*", "*bold* and _italic_"),
        ("__bold__ and ~~gone~~", "*bold* and ~gone~"),
        # A link in untrusted text is shown, never made a Slack link (bot/slack/mrkdwn.py).
        ("see [the docs](https://example.com/a?b=1&c=2)",
         "see the docs (https://example.com/a?b=1&amp;c=2)"),
        ("## Revenue by month", "*Revenue by month*"),
        ("- first\n* second", "• first\n• second"),
        ("a < b & c > d", "a &lt; b &amp; c &gt; d"),
        ("`**not bold**` but **bold**", "`**not bold**` but *bold*"),
        ("```sql\nSELECT 2 * 3 < 7\n```", "```\nSELECT 2 * 3 &lt; 7\n```"),
        ("3 * 4 * 5", "3 * 4 * 5"),
    ],
)
def test_markdown_becomes_slack_mrkdwn(markdown: str, mrkdwn: str) -> None:
    assert to_mrkdwn(markdown) == mrkdwn


def test_an_unclosed_code_fence_is_closed() -> None:
    assert to_mrkdwn("```\nSELECT 1").endswith("```")


def test_split_text_keeps_pieces_under_the_limit_and_loses_nothing() -> None:
    text = "\n\n".join(f"Paragraph {n}: " + "word " * 150 for n in range(30))
    pieces = split_text(text, 3000)
    assert all(len(p) <= 3000 for p in pieces)
    assert " ".join(" ".join(pieces).split()) == " ".join(text.split())


def test_split_text_reopens_a_code_fence_cut_in_two() -> None:
    text = "```\n" + "\n".join(f"row {n}" for n in range(2000)) + "\n```"
    pieces = split_text(text, 3000)
    assert len(pieces) > 1
    assert all(p.count("```") % 2 == 0 for p in pieces)


def full_answer(**overrides: object) -> Answer:
    answer = Answer(
        text="**12,345** users signed up in 2025.",
        sql=["SELECT count(*) FROM users WHERE signup_date >= DATE '2025-01-01'"],
        table=Table(columns=["country", "users"], rows=[[f"Country {n}", n] for n in range(20)],
                    total_rows=12345),
        charts=[Chart(title="Signups", path="/tmp/signups.png")],
        artifacts={"results.csv": "https://bucket.s3.amazonaws.com/results/j1/results.csv?X=1",
                   "local.parquet": "results/j1/local.parquet"},
        verified=True,
        usage=Usage(model_id="us.anthropic.claude-sonnet-4", input_tokens=12034,
                    output_tokens=512, cost_usd=0.0438, seconds=7.25),
        as_of="2026-11-20",
    )
    for name, value in overrides.items():
        setattr(answer, name, value)
    return answer


def all_text(reply: SlackReply) -> str:
    return json.dumps([m.blocks for m in reply.messages])


def assert_within_slack_limits(reply: SlackReply) -> None:
    for message in reply.messages:
        assert len(message.blocks) <= MAX_BLOCKS
        assert len(message.text) <= MAX_MESSAGE_CHARS
        assert len(json.dumps(message.blocks)) <= MAX_MESSAGE_CHARS * 1.2
        for block in message.blocks:
            if block["type"] == "section":
                texts = [block["text"]["text"]]
            elif block["type"] == "context":
                texts = [element["text"] for element in block["elements"]]
            else:  # the feedback buttons: their limits are the stand-in's to check
                continue
            assert all(0 < len(t) <= MAX_SECTION_CHARS for t in texts)


def test_the_answer_shows_text_sql_table_badge_links_and_footer() -> None:
    reply = render_answer(full_answer(), job_id="Ev123")
    text = all_text(reply)
    assert len(reply.messages) == 1
    assert "*12,345* users signed up" in text
    assert "SELECT count(*) FROM users" in text
    assert "Country 19" in text and "first 20 of 12,345 rows" in text
    assert "Verified query" in text
    assert "<https://bucket.s3.amazonaws.com/results/j1/results.csv?X=1|results.csv>" in text
    assert "results/j1/local.parquet" in text
    # The footer comes just before the feedback buttons that end every answer.
    footer = reply.messages[0].blocks[-2]["elements"][0]["text"]
    assert "us.anthropic.claude-sonnet-4" in footer
    assert "12,034 in / 512 out tokens" in footer
    assert "$0.0438" in footer and "7.2 s" in footer and "ref `Ev123`" in footer
    assert footer.startswith("data as of 2026-11-20 · ")
    assert [f.path for f in reply.files] == ["/tmp/signups.png"]
    assert_within_slack_limits(reply)


def test_a_cut_table_links_the_full_result_beside_its_count() -> None:
    link = "https://bucket.s3.amazonaws.com/results/j1/query_1.csv?X=1"
    table = Table(columns=["n"], rows=[[i] for i in range(20)], total_rows=1_234_567,
                  full_result=link)
    blocks = [b for m in render_answer(full_answer(table=table), job_id="j").messages
              for b in m.blocks]
    contexts = [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]
    assert f"first 20 of 1,234,567 rows · <{link}|full CSV>" in contexts


def test_an_unverified_answer_has_no_badge_and_a_complete_table_says_its_count() -> None:
    table = Table(columns=["n"], rows=[[1], [2]], total_rows=2)
    text = all_text(render_answer(full_answer(verified=False, table=table), job_id="j"))
    assert "Verified" not in text
    assert "2 rows" in text and "showing" not in text


def test_an_answer_far_over_slack_limits_is_split_and_attached() -> None:
    # GIVEN an answer with 200,000 characters of text, a huge SQL script, wide rows and
    # Python output
    long_text = "\n\n".join(f"Finding {n}: " + "detail " * 200 for n in range(140))
    answer = full_answer(
        text=long_text,
        sql=["SELECT " + ", ".join(f"col_{n}" for n in range(3000)) + " FROM interactions"],
        table=Table(columns=[f"c{n}" for n in range(30)],
                    rows=[["x" * 60] * 30 for _ in range(20)], total_rows=99999),
        code=[CodeRun(code="print(1)\n" * 2000, output="1\n" * 5000)],
        artifacts={f"file_{n}.csv": f"https://example.com/{n}" for n in range(120)},
    )
    # WHEN it is rendered
    reply = render_answer(answer, job_id="Ev9")
    # THEN every message is within Slack's limits and the excess is attached as files
    assert_within_slack_limits(reply)
    names = {f.filename for f in reply.files}
    assert {"answer.md", "query.sql", "analysis_1.py", "output_1.txt"} <= names
    full = next(f for f in reply.files if f.filename == "answer.md")
    assert full.content == long_text.encode()
    assert "file_119.csv" in all_text(reply)


def test_many_blocks_spill_into_continuation_messages() -> None:
    answer = full_answer(artifacts={f"f{n}": f"https://e.com/{'x' * 2800}/{n}" for n in range(60)})
    reply = render_answer(answer, job_id="j")
    assert len(reply.messages) >= 2
    assert reply.messages[1].text == "(continued)"
    assert_within_slack_limits(reply)


@pytest.mark.parametrize("verified", [True, False])
def test_every_answer_ends_with_feedback_buttons_naming_its_job(verified: bool) -> None:
    reply = render_answer(full_answer(verified=verified), job_id="Ev123")

    last = reply.messages[-1].blocks[-1]
    assert last["type"] == "context_actions"
    [buttons] = last["elements"]
    assert buttons["type"] == "feedback_buttons"
    assert buttons["action_id"] == FEEDBACK_ACTION
    assert buttons["positive_button"]["value"] == "up:Ev123"
    assert buttons["negative_button"]["value"] == "down:Ev123"
    assert [buttons[b]["text"]["text"] for b in ("positive_button", "negative_button")] == [
        "👍", "👎"]


def test_a_long_answer_has_its_feedback_buttons_once_at_the_very_end() -> None:
    answer = full_answer(artifacts={f"f{n}": f"https://e.com/{'x' * 2800}/{n}" for n in range(60)})
    reply = render_answer(answer, job_id="j")

    kinds = [block["type"] for message in reply.messages for block in message.blocks]
    assert kinds.count("context_actions") == 1
    assert reply.messages[-1].blocks[-1]["type"] == "context_actions"


def test_the_question_of_a_slash_command_names_the_person() -> None:
    message = question_message("U42", "revenue <by> month")
    assert message.text == "<@U42> asked: revenue &lt;by&gt; month"


def test_a_slash_command_question_too_long_for_one_section_is_marked_cut() -> None:
    question = " ".join(f"word{n}" for n in range(1000))  # about 7,000 characters

    (block,) = question_message("U42", question).blocks

    shown = block["text"]["text"]
    assert shown.endswith("…") and len(shown) <= MAX_SECTION_CHARS
    assert question_message("U42", "short").blocks[0]["text"]["text"] == "<@U42> asked: short"
