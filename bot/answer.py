"""The Answer: what the engine returns and every renderer (Slack, terminal, HTTP) consumes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Rows an answer's table preview holds, for every engine and renderer: a result with more
# rows than this gets a link to its whole result.
PREVIEW_ROWS = 20


@dataclass
class Table:
    """A preview of a result set: the first rows, how many there were in all, and where the
    whole result is (a link or path) when the preview does not hold it all."""

    columns: list[str]
    rows: list[list[Any]]
    total_rows: int
    full_result: str | None = None

    @property
    def truncated(self) -> bool:
        return self.total_rows > len(self.rows)


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
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    seconds: float = 0.0


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        table = data.get("table")
        return cls(
            text=data["text"],
            sql=list(data.get("sql", [])),
            table=Table(**table) if table else None,
            charts=[Chart(**c) for c in data.get("charts", [])],
            artifacts=dict(data.get("artifacts", {})),
            code=[CodeRun(**c) for c in data.get("code", [])],
            verified=bool(data.get("verified", False)),
            usage=Usage(**data.get("usage", {})),
        )
