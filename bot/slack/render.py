"""An Answer as Slack messages: Block Kit within Slack's limits, plus the files to upload.

The answer's prose is a `markdown` block (Slack renders the Markdown); a result preview
is a `table` block where it fits one, else a fixed-width grid in a code block.

Every text here that did not come from this module (answer text, SQL, table cells, chart
and file titles, error and progress messages, questions) passes through `escape` or
`to_markdown`, except table block cells: `raw_text`, which Slack never parses, gets
`plain`. The only Slack markup written is databot's own: `Link`s to its results and
`mention`s of the person asking (see bot/slack/mrkdwn.py).

Limits respected (Slack rejects anything over them with `invalid_blocks`,
`invalid_attachments`, `msg_too_long` or `msg_blocks_too_long`): at most 50 blocks per
message, 3,000 characters per section or context element, 12,000 characters of
`markdown` block text per message (summed over its markdown blocks), 12,000 characters
of block text per message summed over all its blocks (some workspaces enforce it; a
streamed answer's text counts), 40,000 characters of text per message;
one table per message, of at most 100 rows (its header included), 20 columns and 10,000
characters of cells. Slack shows a message's table below its other blocks, so the table
block is placed last. Content beyond what a thread should show inline (a very long
answer, a long SQL script) is attached as a file instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.answer import PREVIEW_ROWS, Answer, Table, footer_parts
from bot.delivery import MENTION
from bot.slack.feedback import feedback_block
from bot.slack.mrkdwn import Link, clip, escape, mention, plain, split_text, to_markdown
from bot.slack.review_buttons import review_block
from bot.table_text import format_table, table_cells

MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_MESSAGE_CHARS = 40000
# Blocks' text per message, summed: Slack refuses more (msg_blocks_too_long) in some
# workspaces.
MESSAGE_BUDGET_CHARS = 12000
# Summed over a message's markdown blocks.
MAX_MARKDOWN_CHARS = 12000
# Answer text beyond this many markdown blocks is attached as answer.md instead.
MAX_ANSWER_BLOCKS = 2
MAX_TABLE_ROWS = 100
MAX_TABLE_COLUMNS = 20
MAX_TABLE_CELL_CHARS = 10000
SUMMARY_CHARS = 300
MAX_TITLE_CHARS = 250

Block = dict[str, Any]


@dataclass(frozen=True)
class SlackMessage:
    """One chat message: `text` is the notification fallback, `blocks` what is shown."""

    text: str
    blocks: list[Block] = field(default_factory=list)


@dataclass(frozen=True)
class SlackFile:
    """A file to upload into the thread: a local file (`path`) or in-memory `content`."""

    filename: str
    title: str
    path: str | None = None
    content: bytes | None = None


@dataclass(frozen=True)
class SlackReply:
    messages: list[SlackMessage]
    files: list[SlackFile] = field(default_factory=list)


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def markdown(text: str) -> Block:
    return {"type": "markdown", "text": text}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def placeholder() -> SlackMessage:
    return status_message("Working on it…")


def status_message(stage: str) -> SlackMessage:
    """The placeholder's text while the engine works: ":hourglass: Running SQL (2nd try)"."""
    text = f":hourglass_flowing_sand: {clip(escape(stage), SUMMARY_CHARS)}"
    return SlackMessage(text=text, blocks=[context(text)])


def question_message(user_id: str, question: str) -> SlackMessage:
    """A slash command's question, posted into the channel so the answer has a thread."""
    text = f"{mention(user_id)} asked: {escape(question)}"
    # One section only (the answer is in the thread); a cut question says so.
    first, *rest = split_text(text, MAX_SECTION_CHARS - 1)
    return SlackMessage(text=clip(text, SUMMARY_CHARS),
                        blocks=[section(f"{first}…" if rest else first)])


def notice_message(text: str, user_id: str | None = None) -> SlackMessage:
    """A short notice in the thread (a review's outcome); MENTION becomes `user_id`'s
    mention."""
    shown = escape(text).replace(escape(MENTION), mention(user_id) if user_id else "someone")
    return SlackMessage(text=clip(shown, SUMMARY_CHARS), blocks=[section(shown)])


def error_message(message: str, job_id: str) -> SlackMessage:
    """A failure the person should read: the message, and the reference for support."""
    text = clip(f":warning: {escape(message)}", MAX_SECTION_CHARS - 100)
    return SlackMessage(text=text, blocks=[section(text), context(f"ref `{escape(job_id)}`")])


def render_answer(answer: Answer, *, job_id: str, streamed: str | None = None) -> SlackReply:
    """The final answer as one or more messages (each within Slack's limits) and files;
    the last message ends with the reviewer's button (Verify or Retire, when the answer
    has one) and the feedback buttons. `streamed`: the answer's text is already in the
    first message as this Markdown (a streamed message), so it is left out of the blocks
    and counts against the first message's limits."""
    blocks: list[Block] = []
    files: list[SlackFile] = []
    if answer.verified:
        blocks.append(context(":white_check_mark: *Verified query* — answered from the library"))
    if streamed is None:
        blocks += _answer_text(answer.text, files)
    if answer.sql:
        blocks += _code_section("SQL", "\n\n".join(answer.sql), "query.sql", files)
    # Slack shows a table block below all other blocks of its message: it goes last, under
    # its caption. A grid in a code block stays here, after the SQL.
    preview = _table_blocks(answer.table) if answer.table is not None else []
    table_last = any(block["type"] == "table" for block in preview)
    if not table_last:
        blocks += preview
    for index, run in enumerate(answer.code, start=1):
        output = run.output if run.error is None else f"{run.output}\n{run.error}"
        blocks += _code_section("Python", run.code, f"analysis_{index}.py", files)
        if output.strip():
            blocks += _code_section("Output", output, f"output_{index}.txt", files)
    if answer.artifacts:
        blocks += [section(piece) for piece in split_text(_links(answer.artifacts), 2900)]
    blocks.append(context(footer(answer, job_id)))
    if table_last:
        blocks += preview
    review = review_block(answer, job_id)
    if review is not None:
        blocks.append(review)
    blocks.append(feedback_block(job_id))
    files += [
        SlackFile(filename=Path(chart.path).name, title=file_title(chart.title or "Chart"),
                  path=chart.path)
        for chart in answer.charts
    ]
    return SlackReply(messages=_paginate(blocks, _summary(answer.text), len(streamed or "")),
                      files=files)


def footer(answer: Answer, job_id: str) -> str:
    return " · ".join(footer_parts(answer, job_id, text=escape,
                                   code=lambda text: f"`{escape(text)}`"))


def file_title(title: str) -> str:
    """An uploaded file's title: one line, escaped like every other text Slack shows."""
    return clip(escape(" ".join(title.split())), MAX_TITLE_CHARS)


def _answer_text(text: str, files: list[SlackFile]) -> list[Block]:
    pieces = split_text(to_markdown(text), MAX_MARKDOWN_CHARS) or ["(no answer text)"]
    if len(pieces) <= MAX_ANSWER_BLOCKS:
        return [markdown(piece) for piece in pieces]
    files.append(SlackFile("answer.md", "Full answer", content=text.encode()))
    shown = [markdown(piece) for piece in pieces[:MAX_ANSWER_BLOCKS]]
    return [*shown, context("The answer continues in the attached *answer.md*.")]


def _code_section(title: str, code: str, filename: str, files: list[SlackFile]) -> list[Block]:
    """A titled code block; code too long for one section is cut and attached in full."""
    room = MAX_SECTION_CHARS - len(title) - 20
    body = escape(code.strip())
    if len(body) <= room:
        return [section(f"*{title}*\n```{body}```")]
    files.append(SlackFile(filename, title, content=code.encode()))
    cut = body[: room - 40].rsplit("\n", 1)[0]
    return [section(f"*{title}* (cut; full text in *{filename}*)\n```{cut}\n…```")]


def _table_blocks(table: Table) -> list[Block]:
    """The preview as a table block under its caption, or as a fixed-width grid in a code
    block (cut to fit a section) over its caption when it is too wide for a table block."""
    rows = table.shown(PREVIEW_ROWS)
    block = table_block(table.columns, rows)
    if block is not None:
        return [context(_caption(table, len(rows))), block]
    while True:
        grid = _grid(table.columns, rows)
        if len(grid) + 10 <= MAX_SECTION_CHARS or len(rows) <= 1:
            break
        rows = table.shown(len(rows) // 2)
    grid = grid[: MAX_SECTION_CHARS - 10]
    return [section(f"```{grid}```"), context(_caption(table, len(rows)))]


def table_block(columns: list[str], rows: list[list[Any]]) -> Block | None:
    """Slack's `table` block: a header row, then the rows, each cell the text the grid
    shows, numbers right-aligned; None when the result does not fit one."""
    if not columns or len(columns) > MAX_TABLE_COLUMNS or len(rows) + 1 > MAX_TABLE_ROWS:
        return None
    cells = table_cells(columns, rows)
    # One line per cell, as in the grid; raw_text needs at least one character.
    lines = [[plain(" ".join(text.split())) or " " for text in line]
             for line in [cells.header, *cells.rows]]
    if sum(len(text) for line in lines for text in line) > MAX_TABLE_CELL_CHARS:
        return None
    return {
        "type": "table",
        "column_settings": [{"align": "right"} if right else None for right in cells.numeric],
        "rows": [[{"type": "raw_text", "text": text} for text in line] for line in lines],
    }


def _caption(table: Table, shown: int) -> str:
    caption = table.caption(shown)
    if table.full_result:
        caption += " · " + _link(table.full_result, "full CSV")
    return caption


def _grid(columns: list[str], rows: list[list[Any]]) -> str:
    return escape(format_table(columns, rows))


def _links(artifacts: dict[str, str]) -> str:
    lines = ["*Files*"]
    lines += [f"• {_link(where, name)}" for name, where in artifacts.items()]
    return "\n".join(lines)


def _link(where: str, label: str) -> str:
    """One of databot's own results: a URL as a Slack link; a local path (local runs) as code."""
    if where.startswith(("https://", "http://")):
        return Link(where, label).mrkdwn()
    return f"{escape(label)}: `{escape(where)}`"


def _summary(text: str) -> str:
    return clip(escape(" ".join(text.split())), SUMMARY_CHARS)


def _paginate(blocks: list[Block], summary: str, streamed: int = 0) -> list[SlackMessage]:
    """Pack blocks into messages of at most 50 blocks, MESSAGE_BUDGET_CHARS of text,
    MAX_MARKDOWN_CHARS of markdown and one table, which stays with its caption; the first
    message already holds `streamed` characters of Markdown."""
    messages: list[SlackMessage] = []
    current: list[Block] = []
    size = markdown_size = streamed
    for block in blocks:
        block_size = len(_block_text(block))
        block_markdown = block_size if block["type"] == "markdown" else 0
        # A streamed first message holds text already, so it may end with no block.
        if (current or size) and (
            len(current) >= MAX_BLOCKS
            or size + block_size > MESSAGE_BUDGET_CHARS
            or markdown_size + block_markdown > MAX_MARKDOWN_CHARS
            or (block["type"] == "table" and any(b["type"] == "table" for b in current))
        ):
            # A table keeps its caption, the block above it.
            carried = current[-1:] if block["type"] == "table" and len(current) > 1 else []
            messages.append(SlackMessage(text=summary if not messages else "(continued)",
                                         blocks=current[: len(current) - len(carried)]))
            current, size, markdown_size = carried, len("".join(map(_block_text, carried))), 0
        current.append(block)
        size += block_size
        markdown_size += block_markdown
    messages.append(SlackMessage(text=summary if not messages else "(continued)", blocks=current))
    return messages


def _block_text(block: Block) -> str:
    if block["type"] == "markdown":
        return str(block["text"])
    if block["type"] == "table":
        return "".join(cell["text"] for row in block["rows"] for cell in row)
    texts = [block.get("text"), *(element.get("text") for element in block.get("elements", []))]
    # A context element's text is a string; a button's, an object holding one.
    return "".join(text.get("text", "") if isinstance(text, dict) else text or ""
                   for text in texts)
