"""The engine interface: what the worker and the CLI call to turn a question into an Answer.

Implementations: the verified-query library (offline), the Bedrock agent, and the
router that tries the library first (see `executor.router`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from bot.answer import Answer
from bot.asker import Asker
from bot.delivery import Draft, Viewing
from executor.warehouse.base import Warehouse

if TYPE_CHECKING:
    from executor.governance.budgets import Allowance


@dataclass(frozen=True)
class Turn:
    """One earlier exchange in a conversation, as handed to the engine for follow-ups."""

    question: str
    sql: list[str]
    answer: str


def _ignore_progress(stage: str) -> None:
    """Progress sink for callers that show none (tests, the HTTP API)."""


def _no_email() -> str | None:
    """For askers whose platform gives no email (the CLI, the HTTP API, tests)."""
    return None


@dataclass
class Request:
    job_id: str
    question: str
    history: list[Turn] = field(default_factory=list)
    # Called with a short human stage ("Reading the schema", "Running SQL (2nd try)").
    progress: Callable[[str], None] = _ignore_progress
    # The channel the person is viewing beside the conversation, when the platform says.
    viewing: Viewing | None = None
    # Where the final answer's text shows as the model writes it; None: the answer arrives
    # whole (the engine then does not stream).
    draft: Draft | None = None
    # Who asked; None where nobody is known (tests, evaluation runs).
    asker: Asker | None = None
    # The asker's profile email, read from their platform on first call (only a
    # per-user warehouse identity mapped by email asks for it).
    email: Callable[[], str | None] = _no_email
    # The warehouse this request's statements run on (executor.access), set by the engine
    # for the request's session; None: the engine's own.
    warehouse: Warehouse | None = None
    # What the asker may still spend on model calls (executor.governance.budgets), set by
    # the engine; None: no spend limit applies.
    allowance: Allowance | None = None
    # Remarks the request's session adds for the answer's footer (whose permissions the
    # results reflect); the engine appends them to Answer.notes.
    notes: list[str] = field(default_factory=list)


class Engine(Protocol):
    def answer(self, request: Request) -> Answer: ...
