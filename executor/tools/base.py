"""What every tool shares: the per-job context it works in and the error it raises."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.answer import Chart, CodeRun
from executor.artifacts import ArtifactStore
from executor.sandbox import Sandbox
from executor.warehouse.base import QueryResult, TableInfo, Warehouse

# A tool's input is the JSON object the model sent; its output is a JSON-able object.
ToolInput = dict[str, Any]
ToolOutput = dict[str, Any]


class ToolError(Exception):
    """A failure the model should see and can correct: returned as a toolResult with
    status "error" and this message, never raised out of the agent loop."""


@dataclass
class SavedQuery:
    """A query that ran during the job, by name (q1, q2, ...), for charts, Python and export."""

    name: str
    sql: str
    result: QueryResult


@dataclass
class ToolContext:
    job_id: str
    warehouse: Warehouse
    artifacts: ArtifactStore
    progress: Callable[[str], None]
    queries: list[SavedQuery] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    code: list[CodeRun] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)
    # Where run_python runs code (the agent passes the configured one); None: no Python.
    sandbox: Sandbox | None = None
    _tables: list[TableInfo] | None = field(default=None, repr=False)

    def tables(self) -> list[TableInfo]:
        """The warehouse's tables, read once per job (the prompt and describe_tables share it)."""
        if self._tables is None:
            self._tables = self.warehouse.tables()
        return self._tables

    def query_named(self, name: str) -> SavedQuery:
        for saved in self.queries:
            if saved.name == name:
                return saved
        known = ", ".join(q.name for q in self.queries) or "none yet"
        raise ToolError(f"no query named {name!r} (queries so far: {known})")


@dataclass(frozen=True)
class Tool:
    """A tool as the agent sees it: the Converse `toolSpec` (which names it), the function
    behind it, and what the person sees in the thread while it runs."""

    spec: dict[str, Any]
    run: Callable[[ToolContext, ToolInput], ToolOutput]
    stage: str

    @property
    def name(self) -> str:
        return str(self.spec["name"])
