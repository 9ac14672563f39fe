"""An Answer as Teams messages: one Adaptive Card (typed with microsoft-teams-cards), and
plain continuation messages when the answer's text is too long for one message. Loaded
only where an answer or greeting is rendered (the worker), never by the dead-letter
notifier, whose Lambda has no card library.

The card, in reading order: a "verified query" badge, the answer's text (Teams renders its
Markdown), the SQL behind a "Show SQL" toggle (Action.ToggleVisibility), the table preview
(an Adaptive Card Table, numbers right-aligned), the charts as images (the stored chart's
link, or a data URI when the PNG is small and has no link), the files as links, the footer
(the date the data runs to, model, tokens, cost, time, ref), and the actions: 👍/👎, and
Verify (an agent answer) or Retire (a verified answer), whose data the front door reads
(bot/teams/activities.py).

Teams refuses a message of more than about 40 KB. A card over MESSAGE_BUDGET_BYTES sheds,
in turn: table rows (halved until one is left, then the table: the full result is linked),
the SQL (cut, then left out: the bundle holds it), then images given as data URIs; text
beyond TEXT_CHARS goes into continuation messages.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path

from microsoft_teams.cards import Action as CardAction
from microsoft_teams.cards import (
    ActionSet,
    AdaptiveCard,
    CardElement,
    CodeBlock,
    ColumnDefinition,
    Container,
    ExecuteAction,
    Image,
    ImBackSubmitActionData,
    OpenUrlAction,
    SubmitAction,
    SubmitActionData,
    Table,
    TableCell,
    TableRow,
    TextBlock,
    ToggleVisibilityAction,
)

from bot.answer import PREVIEW_ROWS, Answer, Chart, footer_parts
from bot.answer import Table as Preview
from bot.feedback import DOWN, UP
from bot.table_text import table_cells
from bot.teams.activities import FEEDBACK, RETIRE, VERIFY
from bot.teams.activities import CardAction as TeamsAction
from bot.teams.messages import Activity, one_line, text_message

# Teams' limit is about 40 KB per message: the activity's JSON is kept under this.
MESSAGE_BUDGET_BYTES = 38_000
# Answer text per message (the card's, then each continuation's).
TEXT_CHARS = 12_000
# A chart without a stored link is shown inline (a data URI) only when its PNG is this
# small; the message limit counts it.
MAX_DATA_URI_BYTES = 16_000
# SQL kept on a card that is over budget, before the SQL is left out altogether.
CUT_SQL_CHARS = 2_000
SQL_ID = "sql"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
VERIFIED_BADGE = "✅ **Verified query** — answered from the library"


@dataclass(frozen=True)
class TeamsReply:
    """The answer's messages: `card` replaces the placeholder; `rest` follow it in order."""

    card: Activity
    rest: list[Activity] = field(default_factory=list)


def greeting_message(text: str, prompts: list[str]) -> Activity:
    """A welcome with suggested prompts as buttons that ask them (imBack)."""
    actions: list[CardAction] = [
        SubmitAction(title=prompt[:80],
                     data=SubmitActionData(msteams=ImBackSubmitActionData(value=prompt)
                                           .model_dump(exclude_none=True)))
        for prompt in prompts
    ]
    card = AdaptiveCard(body=[TextBlock(text=text, wrap=True)], actions=actions or None)
    return card_message(card, summary=text)


def card_message(card: AdaptiveCard, *, summary: str) -> Activity:
    """A message activity carrying `card`; `summary` is the notification's text."""
    return {
        "type": "message",
        "summary": one_line(summary)[:300],
        "attachments": [{
            "contentType": CARD_CONTENT_TYPE,
            "content": card.model_dump(exclude_none=True, by_alias=True),
        }],
    }


def render_answer(answer: Answer, *, job_id: str) -> TeamsReply:
    """The answer as a card within Teams' message size, and its continuations."""
    pieces = _pieces(answer.text.strip() or "(no answer text)", TEXT_CHARS)
    fit = _Fit(answer)
    while True:
        message = card_message(_card(answer, pieces[0], fit, job_id), summary=answer.text)
        if _size(message) <= MESSAGE_BUDGET_BYTES:
            break
        if not fit.shed():
            # Everything optional is gone: the text itself is too long for one message.
            pieces = _pieces(answer.text.strip(), max(len(pieces[0]) // 2, 1))
    rest = [text_message(piece) for piece in pieces[1:]]
    return TeamsReply(card=message, rest=rest)


class _Fit:
    """What of the answer's optional parts the card still shows, and how to shed the next."""

    def __init__(self, answer: Answer) -> None:
        self.rows = len(answer.table.shown(PREVIEW_ROWS)) if answer.table else 0
        self.table = answer.table is not None
        self.sql_chars: int | None = None  # None: the whole SQL
        self.sql = bool(answer.sql)
        self.data_uris = True
        self.cut: list[str] = []

    def shed(self) -> bool:
        """Leave out the next optional part; False when nothing is left to shed."""
        if self.table and self.rows > 1:
            self.rows //= 2
        elif self.table:
            self.table = False
            self.cut.append("the table preview")
        elif self.sql and self.sql_chars is None:
            self.sql_chars = CUT_SQL_CHARS
        elif self.sql:
            self.sql = False
            self.cut.append("the SQL")
        elif self.data_uris:
            self.data_uris = False
            self.cut.append("the charts")
        else:
            return False
        return True


def _card(answer: Answer, text: str, fit: _Fit, job_id: str) -> AdaptiveCard:
    body: list[CardElement] = []
    if answer.verified:
        body.append(TextBlock(text=VERIFIED_BADGE, wrap=True, is_subtle=True))
    body.append(TextBlock(text=text, wrap=True))
    actions: list[CardAction] = []
    if fit.sql:
        body.append(_sql(answer.sql, fit.sql_chars))
        actions.append(ToggleVisibilityAction(title="Show SQL", target_elements=[SQL_ID]))
    if answer.table is not None and fit.table:
        body += _table(answer.table, fit.rows)
    body += [image for chart in answer.charts
             if (image := _chart(chart, data_uri=fit.data_uris)) is not None]
    if fit.cut:
        body.append(TextBlock(text=f"Left out to fit a Teams message: {', '.join(fit.cut)} "
                                   "(see the files).", wrap=True, is_subtle=True))
    body += _local_files(answer.artifacts)
    body.append(TextBlock(text=" · ".join(footer_parts(answer, job_id)),
                          wrap=True, is_subtle=True, size="Small"))
    actions += [OpenUrlAction(title=name, url=where)
                for name, where in answer.artifacts.items() if _is_link(where)]
    body.append(ActionSet(actions=_review_actions(answer, job_id)))
    return AdaptiveCard(version="1.5", body=body, actions=actions or None,
                        fallback_text=one_line(answer.text)[:300])


def _sql(statements: list[str], limit: int | None) -> Container:
    sql = "\n\n".join(statement.strip() for statement in statements)
    if limit is not None and len(sql) > limit:
        sql = sql[:limit].rsplit("\n", 1)[0] + "\n-- … cut: the full SQL is in the files"
    return Container(id=SQL_ID, is_visible=False, items=[
        CodeBlock(code_snippet=sql, language="Sql",
                  fallback=TextBlock(text=sql, wrap=True, font_type="Monospace")),
    ])


def _table(table: Preview, limit: int) -> list[CardElement]:
    """The preview as a Table under its caption (and a link to the whole result)."""
    rows = table.shown(limit)
    cells = table_cells(table.columns, rows)
    caption = table.caption(len(rows))
    if table.full_result and _is_link(table.full_result):
        caption += f" · [full result]({table.full_result})"
    columns = [ColumnDefinition(width=1, horizontal_cell_content_alignment=(
        "Right" if numeric else "Left")) for numeric in cells.numeric]

    def row(values: list[str], *, header: bool = False) -> TableRow:
        return TableRow(cells=[
            TableCell(items=[TextBlock(text=value, wrap=True,
                                       weight="Bolder" if header else None)])
            for value in values
        ])

    return [
        TextBlock(text=caption, wrap=True, is_subtle=True, size="Small"),
        Table(columns=columns, first_row_as_headers=True, grid_style="accent",
              rows=[row(cells.header, header=True), *(row(line) for line in cells.rows)]),
    ]


def _chart(chart: Chart, *, data_uri: bool) -> Image | None:
    """The chart's stored link, else the PNG itself when it is small; None otherwise."""
    title = chart.title or "Chart"
    if chart.url and _is_link(chart.url):
        return Image(url=chart.url, alt_text=title)
    if not data_uri:
        return None
    path = Path(chart.path)
    if not path.is_file() or path.stat().st_size > MAX_DATA_URI_BYTES:
        return None
    encoded = base64.b64encode(path.read_bytes()).decode()
    return Image(url=f"data:image/png;base64,{encoded}", alt_text=title)


def _local_files(artifacts: dict[str, str]) -> list[CardElement]:
    """Files that are local paths (a local run) are named; links become buttons."""
    local = [f"{name}: {where}" for name, where in artifacts.items() if not _is_link(where)]
    return [TextBlock(text="\n\n".join(local), wrap=True, size="Small")] if local else []


def _review_actions(answer: Answer, job_id: str) -> list[CardAction]:
    """👍/👎, then Verify for an agent answer with SQL or Retire for a verified one (the
    front door lets reviewers alone do either)."""
    actions: list[CardAction] = [
        _execute("👍", "This answer was useful", TeamsAction(FEEDBACK, job_id, value=UP)),
        _execute("👎", "This answer was not useful", TeamsAction(FEEDBACK, job_id, value=DOWN)),
    ]
    if answer.verified and answer.entry_id:
        actions.append(_execute("Retire", "Retire this verified query (reviewers)",
                                TeamsAction(RETIRE, job_id, entry_id=answer.entry_id)))
    elif not answer.verified and answer.sql:
        actions.append(_execute("Verify", "Add this answer to the verified library "
                                          "(reviewers)", TeamsAction(VERIFY, job_id)))
    return actions


def _execute(title: str, tooltip: str, action: TeamsAction) -> ExecuteAction:
    return ExecuteAction(title=title, tooltip=tooltip, verb=action.action, data=action.data())


def _pieces(text: str, limit: int) -> list[str]:
    """`text` in pieces of at most `limit` characters, cut at a paragraph, line or word."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = max(text.rfind(sep, 0, limit) for sep in ("\n\n", "\n", " "))
        cut = cut if cut > limit // 2 else limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [*pieces, text] if text else pieces or [""]


def _size(activity: Activity) -> int:
    return len(json.dumps(activity, ensure_ascii=False).encode())


def _is_link(where: str) -> bool:
    return where.startswith(("https://", "http://"))


