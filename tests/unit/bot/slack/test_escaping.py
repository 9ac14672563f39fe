"""Untrusted text (data values, model text, questions, database errors) can never ping
anyone or become a link in Slack, by whichever path it is rendered; databot's own links
to its results still render as links."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.answer import Answer, Chart, CodeRun, Table, Usage
from bot.job import ReplyTo
from bot.slack.mrkdwn import Link, escape, mention, plain, to_markdown
from bot.slack.notices import working_on_it
from bot.slack.render import (
    Block,
    SlackReply,
    error_message,
    question_message,
    render_answer,
    status_message,
)
from bot.slack.replier import SlackReplier, web_client
from bot.table_text import table_cells
from tests.support.slack_api import SlackApiStandIn

ADVERSARIAL = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!subteam^S0123ABC|@data-team>",
    "<@U0123ABC>",
    "<#C0123ABC|general>",
    "<https://evil.example/login|Full results>",
    "<mailto:ceo@example.com|mail me>",
    "<<!channel>>",
    "<!channel|x>",
    "<!date^1392734382^{date}|x>",
    "&lt;!channel&gt;",
    "&#60;!here&#62;",
    "[United States](https://x.example/><!channel>)",
    "[<!here>](https://x.example/a|b)",
    "[ok](https://x.example/a>b|<!everyone>)",
    "**<!here>** and _<!channel>_",
    "`<!channel>`",
    "```\n<!channel>\n```",
    "# <!here> heading",
    "- <@U0123ABC> in a bullet",
    "＜!channel＞ fullwidth",
    "<\u200b!channel>",
    "\u200b<!here>\u200b",
    "<!chan\u200bnel>",
    "\x00<!channel>\x01",
    "line one\n<!channel>\nline three",
]
# The artifact link databot itself adds to the answers below.
OWN_URL = "https://bucket.s3.amazonaws.com/results/j1/results.csv?X-Amz-Credential=a&X=1"
OWN_LINK = f"<{OWN_URL}|results.csv>"


def markup_left(text: str, *own: str) -> str:
    """`text` without databot's own links and mentions: what untrusted text became."""
    for item in own:
        text = text.replace(item, "")
    return text


def parsed(blocks: list[Block]) -> list[Block]:
    """The blocks without their table cells of type raw_text: text Slack shows as it is,
    parsing no link or ping in it (test_table_cells_are_raw_text_shown_as_they_are)."""
    return [{**block, "rows": [[cell for cell in row if cell["type"] != "raw_text"]
                               for row in block["rows"]]}
            if block["type"] == "table" else block for block in blocks]


def shown_text(reply: SlackReply) -> str:
    """Every string Slack would parse: fallback texts, blocks, file titles."""
    texts = [m.text for m in reply.messages]
    texts += [json.dumps(parsed(m.blocks)) for m in reply.messages]
    return "\n".join(texts + [f.title for f in reply.files])


def answer_with(value: str, **fields: object) -> Answer:
    answer = Answer(text=f"The top country is {value}.", artifacts={"results.csv": OWN_URL},
                    usage=Usage(model_id="m1"))
    for name, field_value in fields.items():
        setattr(answer, name, field_value)
    return answer


WIDE = [f"c{n}" for n in range(24)]
# Each path by which untrusted text reaches a message: the rendered reply's text.
PATHS = {
    "answer section and fallback": lambda v: shown_text(render_answer(answer_with(v), job_id="j")),
    "verified answer": lambda v: shown_text(render_answer(answer_with(v, verified=True),
                                                          job_id="j")),
    # Too wide for a table block: a grid in a code block (table block cells: below).
    "table cell and column in a grid": lambda v: shown_text(render_answer(
        answer_with("x", table=Table(columns=[v, *WIDE], rows=[[v, *WIDE]] * 3, total_rows=900,
                                     full_result=OWN_URL)), job_id="j")),
    "chart title": lambda v: shown_text(render_answer(
        answer_with("x", charts=[Chart(title=v, path="/tmp/c.png")]), job_id="j")),
    "sql and python output": lambda v: shown_text(render_answer(
        answer_with("x", sql=[f"SELECT '{v}'"], code=[CodeRun(v, v, error=v)]), job_id="j")),
    "model id in the footer": lambda v: shown_text(render_answer(
        answer_with("x", usage=Usage(model_id=v)), job_id="j")),
    "error message": lambda v: shown_text(SlackReply([error_message(f"DB said: {v}", v)])),
    "progress message": lambda v: shown_text(SlackReply([status_message(f"Using {v}")])),
    "question message": lambda v: shown_text(SlackReply([question_message("U42", v)])),
    "slash command acknowledgement": lambda v: working_on_it(v),
}


@pytest.mark.parametrize("value", ADVERSARIAL)
@pytest.mark.parametrize("path", list(PATHS))
def test_untrusted_text_never_becomes_slack_markup(path: str, value: str) -> None:
    # GIVEN an adversarial value in data, model text, a question or an error
    # WHEN it is rendered along this path
    shown = PATHS[path](value)
    # THEN no `<` from it reaches Slack: only databot's own link and mention remain
    left = markup_left(shown, OWN_LINK, f"<{OWN_URL}|full CSV>", "<@U42>")
    assert "<" not in left
    assert "&lt;" in left or "<" not in value


@pytest.mark.parametrize("value", ADVERSARIAL)
def test_table_cells_are_raw_text_shown_as_they_are(value: str) -> None:
    # GIVEN an adversarial value as a column name and in every cell
    table = Table(columns=[value, "n"], rows=[[value, 1]] * 3, total_rows=3)
    # WHEN it is rendered as a table block
    blocks = [b for m in render_answer(answer_with("x", table=table), job_id="j").messages
              for b in m.blocks if b["type"] == "table"]
    # THEN every cell is raw_text (never rich_text, which can hold links and mentions),
    # showing the value itself, as the terminal grid does: nothing in it is markup
    (block,) = blocks
    cells = [cell for row in block["rows"] for cell in row]
    assert {cell["type"] for cell in cells} == {"raw_text"}
    grid = table_cells([value], [[value]])
    header, cell = (plain(" ".join(text.split())) or " " for text in (grid.header[0],
                                                                        grid.rows[0][0]))
    assert [row[0]["text"] for row in block["rows"]] == [header, cell, cell, cell]


def test_databot_own_links_still_render_as_links() -> None:
    # GIVEN an answer whose text and table hold injected links, and databot's own results
    table = Table(columns=["n"], rows=[[1]], total_rows=5000, full_result=OWN_URL)
    answer = answer_with("[x](https://evil.example)", table=table)
    # WHEN it is rendered
    shown = shown_text(render_answer(answer, job_id="j"))
    # THEN its own links are Slack links, and the injected one is plain text
    assert OWN_LINK in shown and f"<{OWN_URL}|full CSV>" in shown
    assert "x (https://evil.example)" in shown and "<https://evil.example" not in shown


@pytest.mark.parametrize(("url", "label", "expected"), [
    ("https://a.example/r.csv", "r.csv", "<https://a.example/r.csv|r.csv>"),
    ("https://a.example/x><!channel>", "f", "<https://a.example/x%3E%3C!channel%3E|f>"),
    ("https://a.example/x|<!here>", "f", "<https://a.example/x%7C%3C!here%3E|f>"),
    ("https://a.example/a b", "<!channel>", "<https://a.example/a%20b|&lt;!channel&gt;>"),
])
def test_a_link_cannot_be_ended_early_by_its_url_or_label(
    url: str, label: str, expected: str
) -> None:
    assert Link(url, label).mrkdwn() == expected


def test_only_http_links_can_be_made() -> None:
    with pytest.raises(ValueError, match="http"):
        Link("javascript:alert(1)", "x")


@pytest.mark.parametrize(("user_id", "expected"), [
    ("U0123ABC", "<@U0123ABC>"),
    ("W0123ABC", "<@W0123ABC>"),
    ("U1><!channel", "U1&gt;&lt;!channel"),
    ("!here", "!here"),
])
def test_a_mention_is_made_only_of_a_well_formed_user_id(user_id: str, expected: str) -> None:
    assert mention(user_id) == expected


@pytest.mark.parametrize(("markdown", "mrkdwn"), [
    ("&lt;!channel&gt;", "&amp;lt;!channel&amp;gt;"),
    ("`<!here>`", "`&lt;!here&gt;`"),
    ("＜!channel＞", "＜!channel＞"),
    ("[a](https://x.example/><!channel>)", "a (https://x.example/&gt;&lt;!channel&gt;)"),
])
def test_entities_code_and_lookalikes_stay_literal(markdown: str, mrkdwn: str) -> None:
    assert to_markdown(markdown) == mrkdwn


def test_a_cut_never_splits_an_entity() -> None:
    # GIVEN an error full of escaped characters, far over a section's size
    message = error_message("&" * 5000, "j")
    # THEN the cut text ends on a whole entity
    text = message.blocks[0]["text"]["text"]
    assert text.endswith("&amp;…")
    assert escape("&") * 10 in text


def test_what_reaches_slack_holds_no_untrusted_markup(
    slack_api: SlackApiStandIn, tmp_path: Path
) -> None:
    # GIVEN an answer made of adversarial values everywhere, with a chart and files
    chart = tmp_path / "chart.png"
    chart.write_bytes(b"\x89PNG\r\n\x1a\n")
    evil = " ".join(ADVERSARIAL)
    answer = answer_with(evil * 40, charts=[Chart(title=evil, path=str(chart))],
                         sql=[f"SELECT '{evil}'" * 100],
                         table=Table(columns=[evil], rows=[[evil]], total_rows=1))
    replier = SlackReplier(web_client(slack_api.token, slack_api.url))
    # WHEN it is delivered to Slack, with a failure notice after it
    thread = ReplyTo(kind="slack", channel="C1", thread_ts="1.000001")
    reply = render_answer(answer, job_id="j")
    for message in reply.messages:
        replier.post(thread, message)
    for file in reply.files:
        replier.upload(thread, file)
    replier.post(thread, error_message(evil, "j"))
    # THEN no call carries untrusted markup or asks Slack to parse names in text
    sent = [call for call in slack_api.calls if call.method != "upload"]
    assert {"chat.postMessage", "files.completeUploadExternal"} <= {c.method for c in sent}
    for call in sent:
        blocks = call.args.get("blocks") or []
        args = {**call.args,
                "blocks": parsed(json.loads(blocks) if isinstance(blocks, str) else blocks)}
        assert "<" not in markup_left(json.dumps(args, ensure_ascii=False), OWN_LINK)
        assert call.args.get("parse") in (None, "none")
        assert str(call.args.get("link_names", "")).lower() not in ("1", "true")
    titles = [f["title"] for c in slack_api.calls_to("files.completeUploadExternal")
              for f in json.loads(c.args["files"])]
    assert any("&lt;!channel&gt;" in title for title in titles)
    assert any(OWN_LINK in json.dumps(c.args) for c in slack_api.calls_to("chat.postMessage"))

