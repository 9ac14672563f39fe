"""Answer → Block Kit, and Markdown for the markdown block: content and Slack's limits."""

from __future__ import annotations

import json

import pytest

from bot.answer import Answer, Chart, CodeRun, Table, Usage
from bot.slack.feedback import FEEDBACK_ACTION
from bot.slack.mrkdwn import split_text, to_markdown
from bot.slack.render import (
    MAX_BLOCKS,
    MAX_MARKDOWN_CHARS,
    MAX_MESSAGE_CHARS,
    MAX_SECTION_CHARS,
    MAX_TABLE_CELL_CHARS,
    MAX_TABLE_ROWS,
    Block,
    SlackReply,
    question_message,
    render_answer,
    table_block,
)
from bot.table_text import format_table
from tests.support.slack_api import _message_problem


@pytest.mark.parametrize(
    ("untrusted", "markdown"),
    [
        # Slack renders Markdown in the markdown block: the formatting stays as it is.
        ("**bold** and *italic*", "**bold** and *italic*"),
        ("## Revenue by month\n- first\n* second", "## Revenue by month\n- first\n* second"),
        # A link in untrusted text is shown, never made a link (bot/slack/mrkdwn.py).
        ("see [the docs](https://example.com/a?b=1&c=2)",
         "see the docs (https://example.com/a?b=1&amp;c=2)"),
        ("![logo](https://example.com/l.png)", "logo (https://example.com/l.png)"),
        # Brackets left over cannot make a reference-style link.
        ("[click][1]\n\n[1]: https://evil.example",
         "\\[click\\]\\[1\\]\n\n\\[1\\]: https://evil.example"),
        ("a < b & c > d", "a &lt; b &amp; c &gt; d"),
        ("`[x](https://e.example)` but **bold**", "`[x](https://e.example)` but **bold**"),
        ("```sql\nSELECT 2 * 3 < 7\n```", "```\nSELECT 2 * 3 &lt; 7\n```"),
    ],
)
def test_untrusted_markdown_becomes_safe_markdown(untrusted: str, markdown: str) -> None:
    assert to_markdown(untrusted) == markdown


def test_an_unclosed_code_fence_is_closed() -> None:
    assert to_markdown("```\nSELECT 1").endswith("```")


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
        # The stand-in checks each block the way Slack does (tests/support/slack_api.py).
        assert _message_problem({"channel": "C1", "text": message.text,
                                 "blocks": message.blocks}) is None
        for block in message.blocks:
            if block["type"] == "section":
                texts = [block["text"]["text"]]
            elif block["type"] == "context":
                texts = [element["text"] for element in block["elements"]]
            else:  # the feedback buttons: their limits are the stand-in's to check
                continue
            assert all(0 < len(t) <= MAX_SECTION_CHARS for t in texts)


def blocks_of(reply: SlackReply) -> list[Block]:
    return [block for message in reply.messages for block in message.blocks]


def cell_texts(block: Block) -> list[list[str]]:
    return [[cell["text"] for cell in row] for row in block["rows"]]


def test_the_answer_shows_text_sql_table_badge_links_and_footer() -> None:
    reply = render_answer(full_answer(), job_id="Ev123")
    text = all_text(reply)
    assert len(reply.messages) == 1
    assert reply.messages[0].blocks[1] == {"type": "markdown",
                                           "text": "**12,345** users signed up in 2025."}
    assert "SELECT count(*) FROM users" in text
    assert "Country 19" in text and "first 20 of 12,345 rows" in text
    assert "Verified query" in text
    assert "<https://bucket.s3.amazonaws.com/results/j1/results.csv?X=1|results.csv>" in text
    assert "results/j1/local.parquet" in text
    # Slack shows a table below the other blocks: it comes after the footer, under its
    # caption, and the feedback buttons end the answer.
    *_, footer_block, caption, table, buttons = reply.messages[0].blocks
    assert table["type"] == "table" and caption["type"] == "context"
    assert buttons["type"] == "context_actions"
    footer = footer_block["elements"][0]["text"]
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


def test_a_table_spilling_into_the_next_message_takes_its_caption_along() -> None:
    # GIVEN links filling most of a message, then a table of 8,000 characters of cells
    table = Table(columns=[f"c{n}" for n in range(20)], rows=[["y" * 20] * 20] * 20,
                  total_rows=500)
    answer = full_answer(table=table,
                         artifacts={f"f{n}": f"https://e.com/{'x' * 2800}/{n}" for n in range(10)})
    # WHEN it is rendered
    reply = render_answer(answer, job_id="j")
    # THEN the table opens a continuation message, under its caption
    assert [b["type"] for b in reply.messages[-1].blocks] == ["context", "table",
                                                              "context_actions"]
    assert reply.messages[-1].blocks[0]["elements"][0]["text"] == "first 20 of 500 rows"
    # (the links fill several messages of 12,000 characters; the footer ends the last one)
    assert reply.messages[-2].blocks[-1]["elements"][0]["text"].startswith("data as of")
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


def test_a_narrow_result_is_a_table_block_with_the_grid_s_cell_text() -> None:
    # GIVEN a monthly result with a partial period, counts and amounts
    columns = ["month", "users", "revenue", "note"]
    rows = [["2026-11-01 (through the 20th)", 1234, 1234.5, ""],
            ["2026-10-01", 56, 2.0, "<!channel> & co"]]
    table = Table(columns=columns, rows=rows, total_rows=2, unit="months")
    # WHEN the answer is rendered
    reply = render_answer(full_answer(table=table), job_id="j")
    # THEN the preview is one table block under its caption, each cell as the grid shows it
    blocks = blocks_of(reply)
    (block,) = [b for b in blocks if b["type"] == "table"]
    caption = blocks[blocks.index(block) - 1]
    assert caption["elements"][0]["text"] == "2 months"
    assert cell_texts(block) == [
        ["month", "users", "revenue", "note"],
        ["2026-11-01 (through the 20th)", "1,234", "1,234.50", " "],
        ["2026-10-01", "56", "2.00", "<!channel> & co"],
    ]
    grid = format_table(columns, rows)
    assert all(text.strip() in grid for row in cell_texts(block) for text in row)
    assert block["column_settings"] == [None, {"align": "right"}, {"align": "right"}, None]
    assert all(cell["type"] == "raw_text" for row in block["rows"] for cell in row)
    assert not [b for b in blocks if b["type"] == "section" and "20th" in b["text"]["text"]]
    assert_within_slack_limits(reply)


def test_a_cut_preview_keeps_its_caption_above_the_table() -> None:
    table = Table(columns=["month", "users"], rows=[[f"2026-{n:02d}", n] for n in range(35)],
                  total_rows=35, selection="latest", unit="months")
    blocks = blocks_of(render_answer(full_answer(table=table), job_id="j"))
    (index,) = [i for i, b in enumerate(blocks) if b["type"] == "table"]
    assert blocks[index - 1]["elements"][0]["text"] == "latest 20 of 35 months"
    assert cell_texts(blocks[index])[-1] == ["2026-34", "34"]


def test_a_result_of_25_columns_falls_back_to_the_code_block() -> None:
    table = Table(columns=[f"c{n}" for n in range(25)], rows=[list(range(25))] * 3,
                  total_rows=3)
    reply = render_answer(full_answer(table=table), job_id="j")
    blocks = blocks_of(reply)
    assert not [b for b in blocks if b["type"] == "table"]
    (grid,) = [b for b in blocks if b["type"] == "section" and "c24" in b["text"]["text"]]
    assert grid["text"]["text"] == f"```{format_table(table.columns, table.rows)}```"
    assert blocks[blocks.index(grid) + 1]["elements"][0]["text"] == "3 rows"
    assert_within_slack_limits(reply)


def test_a_table_block_holds_at_most_100_rows_with_its_header() -> None:
    # GIVEN 99 rows (100 with the header) and 100 rows (101)
    fits = table_block(["n"], [[n] for n in range(MAX_TABLE_ROWS - 1)])
    too_long = table_block(["n"], [[n] for n in range(MAX_TABLE_ROWS)])
    # THEN the first is a table block Slack takes, the second none
    assert fits is not None and len(fits["rows"]) == MAX_TABLE_ROWS
    assert _message_problem({"channel": "C1", "text": "t", "blocks": [fits]}) is None
    assert too_long is None
    over = {**fits, "rows": [*fits["rows"], [{"type": "raw_text", "text": "x"}]]}
    assert _message_problem({"channel": "C1", "text": "t", "blocks": [over]}) == "invalid_blocks"


def test_cells_over_slack_s_sum_fall_back_to_the_code_block() -> None:
    # GIVEN 20 columns of 40-character cells: 16,000 characters, over 10,000
    rows = [["x" * 40] * 20 for _ in range(20)]
    assert sum(len(c) for row in rows for c in row) > MAX_TABLE_CELL_CHARS
    assert table_block([f"c{n}" for n in range(20)], rows) is None
    # WHEN such an answer is rendered THEN it is the code block, within Slack's limits
    table = Table(columns=[f"c{n}" for n in range(20)], rows=rows, total_rows=20)
    reply = render_answer(full_answer(table=table), job_id="j")
    assert not [b for b in blocks_of(reply) if b["type"] == "table"]
    assert "```c0" in all_text(reply)
    assert_within_slack_limits(reply)


def test_answer_text_within_the_markdown_limit_is_one_markdown_block() -> None:
    text = "\n\n".join(f"Finding {n}: " + "detail " * 100 for n in range(15))
    assert len(text) <= MAX_MARKDOWN_CHARS
    reply = render_answer(full_answer(text=text, table=None), job_id="j")
    markdown = [b for b in blocks_of(reply) if b["type"] == "markdown"]
    assert [b["text"] for b in markdown] == [text]
    assert not [f for f in reply.files if f.filename == "answer.md"]
    assert_within_slack_limits(reply)


def test_answer_text_beyond_the_markdown_limit_is_split_across_messages() -> None:
    # GIVEN about 20,000 characters of answer text: two markdown blocks' worth
    text = "\n\n".join(f"Finding {n}: " + "detail " * 100 for n in range(28))
    assert MAX_MARKDOWN_CHARS < len(text) <= 2 * MAX_MARKDOWN_CHARS
    # WHEN it is rendered
    reply = render_answer(full_answer(text=text), job_id="j")
    # THEN it is two markdown blocks, in two messages (Slack sums markdown per message),
    # that lose nothing
    markdown = [[b["text"] for b in m.blocks if b["type"] == "markdown"] for m in reply.messages]
    assert [len(texts) for texts in markdown][:2] == [1, 1]
    shown = " ".join(t for texts in markdown for t in texts)
    assert " ".join(shown.split()) == " ".join(text.split())
    assert not [f for f in reply.files if f.filename == "answer.md"]
    assert_within_slack_limits(reply)


def test_the_table_block_comes_last_and_a_grid_stays_after_the_sql() -> None:
    # The table is the last block before the feedback buttons that end every answer.
    answer = full_answer(code=[CodeRun(code="print(1)", output="1")])
    (message,) = render_answer(answer, job_id="j").messages
    types = [b["type"] for b in message.blocks]
    assert types[-2:] == ["table", "context_actions"] and types.count("table") == 1
    assert "print(1)" in json.dumps(message.blocks[:-3])
    wide = Table(columns=[f"c{n}" for n in range(25)], rows=[list(range(25))], total_rows=1)
    blocks = render_answer(full_answer(table=wide), job_id="j").messages[0].blocks
    texts = [json.dumps(b) for b in blocks]
    sql = next(i for i, t in enumerate(texts) if "SELECT count" in t)
    assert "c24" in texts[sql + 1] and "ref `j`" in texts[-2]


def test_slack_takes_one_table_per_message() -> None:
    table = table_block(["n"], [[1]])
    assert table is not None
    assert _message_problem({"channel": "C1", "text": "t",
                             "blocks": [table, table]}) == "invalid_attachments"


@pytest.mark.parametrize(("blocks", "error"), [
    ([{"type": "markdown", "text": "x" * (MAX_MARKDOWN_CHARS + 1)}], "msg_blocks_too_long"),
    ([{"type": "markdown", "text": "x" * 7000}] * 2, "msg_blocks_too_long"),
    ([{"type": "markdown", "text": " "}], "invalid_blocks"),
    ([{"type": "mrkdwn", "text": "x"}], "invalid_blocks"),
    ([{"type": "table", "rows": [[{"type": "raw_text", "text": ""}]]}], "invalid_blocks"),
    ([{"type": "table", "rows": [[{"type": "mrkdwn", "text": "x"}]]}], "invalid_blocks"),
    ([{"type": "table", "rows": [[{"type": "raw_text", "text": "x"}] * 21]}], "invalid_blocks"),
    ([{"type": "table", "rows": [[{"type": "raw_text", "text": "x"}]],
       "column_settings": [{"align": "middle"}]}], "invalid_blocks"),
    ([{"type": "table", "rows": [[{"type": "raw_text", "text": "x" * 10001}]]}],
     "invalid_blocks"),
])
def test_the_slack_stand_in_rejects_what_slack_rejects(blocks: list[Block], error: str) -> None:
    assert _message_problem({"channel": "C1", "text": "t", "blocks": blocks}) == error


def test_a_streamed_answer_leaves_its_text_out_and_counts_it_against_the_first_message(
) -> None:
    # GIVEN an answer whose text was streamed into its first message
    answer = full_answer(verified=False)
    prose = to_markdown(answer.text)
    # WHEN it is rendered as the blocks that finish the stream
    reply = render_answer(answer, job_id="j", streamed=prose)
    # THEN no markdown block repeats the text; the SQL, table and buttons follow it
    types = [b["type"] for b in reply.messages[0].blocks]
    assert "markdown" not in types and types[-1] == "context_actions" and "table" in types
    # AND a long streamed text pushes the blocks into a message of their own, keeping the
    # first message (text and blocks) within Slack's summed block-text limit
    long_prose = "x" * 11990
    long_reply = render_answer(full_answer(verified=False, text=long_prose), job_id="j",
                               streamed=long_prose)
    assert long_reply.messages[0].blocks == []
    assert _message_problem({"channel": "C1", "text": "t",
                             "blocks": long_reply.messages[0].blocks},
                            streamed=len(long_prose)) is None
    assert [b["type"] for b in long_reply.messages[-1].blocks][-1] == "context_actions"


def test_a_message_over_12000_characters_of_block_text_is_refused() -> None:
    sections = [{"type": "section", "text": {"type": "mrkdwn", "text": "y" * 2500}}] * 5
    assert _message_problem({"channel": "C1", "text": "t", "blocks": sections}) == \
        "msg_blocks_too_long"
    answer = full_answer(artifacts={f"f{n}": f"https://e.com/{'x' * 2800}/{n}" for n in range(5)})
    assert_within_slack_limits(render_answer(answer, job_id="j"))


def test_the_answer_notes_follow_the_as_of_date_escaped() -> None:
    answer = full_answer(notes=["results reflect your own warehouse permissions",
                                "80 % of your <daily> budget used"])
    blocks = render_answer(answer, job_id="j").messages[0].blocks
    *_, footer_block, _caption, _table, _buttons = blocks
    footer = footer_block["elements"][0]["text"]
    assert footer.startswith("data as of 2026-11-20 · results reflect your own warehouse "
                             "permissions · 80 % of your &lt;daily&gt; budget used · model ")
