"""The Answer: what the engine returns and every renderer (Slack, terminal, HTTP) consumes."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from bot.review import Proposal

# Rows an answer's table preview holds, for every engine and renderer: a result with more
# rows than this gets a link to its whole result.
PREVIEW_ROWS = 20
# Bold in the answer's text (Markdown): **bold** and __bold__. Each renderer turns it into
# its own.
BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")


@dataclass
class Table:
    """A preview of a result set: some of its rows, how many there were in all, and where
    the whole result is (a link or path) when the preview does not hold it all.

    `selection` says which rows a cut preview holds: the "first" in the result's order,
    the "latest" of a time series (kept in time order, so the last rows), or the "top" of
    a ranking by `ranked_by`. `unit` names what a row is ("months", "rows").
    """

    columns: list[str]
    rows: list[list[Any]]
    total_rows: int
    full_result: str | None = None
    selection: str = "first"
    unit: str = "rows"
    ranked_by: str | None = None

    @property
    def truncated(self) -> bool:
        return self.total_rows > len(self.rows)

    def shown(self, limit: int | None = None) -> list[list[Any]]:
        """At most `limit` preview rows, from the end the selection keeps."""
        if limit is None or limit >= len(self.rows):
            return self.rows
        if self.selection == "latest":
            return self.rows[len(self.rows) - limit :]
        return self.rows[:limit]

    def caption(self, shown: int | None = None) -> str:
        """'latest 20 of 35 months', 'top 20 of 120 rows by revenue', '3 rows'."""
        count = len(self.rows) if shown is None else shown
        unit = self.unit if self.total_rows != 1 else self.unit.removesuffix("s")
        if count >= self.total_rows:
            return f"{self.total_rows:,} {unit}"
        ranked = f" by {self.ranked_by}" if self.selection == "top" and self.ranked_by else ""
        return f"{self.selection} {count:,} of {self.total_rows:,} {unit}{ranked}"


@dataclass
class Chart:
    """A rendered chart. `path` is a local PNG file; `url` is set once it is stored; `spec`
    is what drew it (kind, x, y, ...), kept so the answer can be re-run."""

    title: str
    path: str
    url: str | None = None
    spec: dict[str, Any] | None = None


@dataclass
class CodeRun:
    """Python the engine ran in the sandbox, with what it printed."""

    code: str
    output: str
    error: str | None = None


@dataclass
class Usage:
    model_id: str | None = None
    # Prompt tokens billed at the full input price (Bedrock's inputTokens).
    input_tokens: int = 0
    output_tokens: int = 0
    # Prompt tokens read from, and written to, the model's prompt cache (priced apart).
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0
    seconds: float = 0.0

    def tokens_text(self) -> str:
        """"12,034 in (9,800 cached) / 512 out tokens": every prompt token, with those read
        from the prompt cache and written to it when there are any."""
        prompt = self.input_tokens + self.cache_read_tokens + self.cache_write_tokens
        cached = [f"{count:,} {what}" for count, what in (
            (self.cache_read_tokens, "cached"), (self.cache_write_tokens, "to cache")) if count]
        detail = f" ({', '.join(cached)})" if cached else ""
        return f"{prompt:,} in{detail} / {self.output_tokens:,} out tokens"


@dataclass
class Answer:
    text: str
    sql: list[str] = field(default_factory=list)
    table: Table | None = None
    charts: list[Chart] = field(default_factory=list)
    artifacts: dict[str, str] = field(default_factory=dict)
    code: list[CodeRun] = field(default_factory=list)
    verified: bool = False
    usage: Usage = field(default_factory=Usage)
    # The latest date in the data the answer used (ISO date), when it read dated tables.
    as_of: str | None = None
    # The verified library entry that answered, when one did.
    entry_id: str | None = None
    # An agent answer's entry as a reviewer would verify it, prefilled (the Verify modal).
    proposal: Proposal | None = None
    # Short remarks every platform shows in the footer ("results reflect your own warehouse
    # permissions", "80 % of your daily budget used").
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        # Written only when set, so the records of other answers keep their shape.
        if self.proposal is None:
            del data["proposal"]
        else:
            data["proposal"] = self.proposal.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        table, proposal = data.get("table"), data.get("proposal")
        return cls(
            text=data["text"],
            sql=list(data.get("sql", [])),
            table=Table(**table) if table else None,
            charts=[Chart(**c) for c in data.get("charts", [])],
            artifacts=dict(data.get("artifacts", {})),
            code=[CodeRun(**c) for c in data.get("code", [])],
            verified=bool(data.get("verified", False)),
            usage=Usage(**data.get("usage", {})),
            as_of=data.get("as_of"),
            entry_id=data.get("entry_id"),
            proposal=Proposal.from_dict(proposal) if proposal else None,
            notes=list(data.get("notes", [])),
        )


def footer_parts(
    answer: Answer, job_id: str, *, text: Callable[[str], str] = str,
    code: Callable[[str], str] = str,
) -> list[str]:
    """The answer's footer, every chat platform's: the date the data runs to, its notes,
    the model, tokens, cost, time and the job's reference; `text` escapes free text and
    `code` marks up an id as the platform shows code."""
    usage = answer.usage
    parts = [f"data as of {text(answer.as_of)}"] if answer.as_of else []
    parts += [text(note) for note in answer.notes]
    parts += [
        f"model {code(usage.model_id)}" if usage.model_id else "no model",
        usage.tokens_text(),
        f"${usage.cost_usd:.4f}",
        f"{usage.seconds:.1f} s",
        f"ref {code(job_id)}",
    ]
    return parts
