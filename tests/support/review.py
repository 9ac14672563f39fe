"""Fixtures for verifying answers from chat: a question the library does not answer, the
SQL an agent would run for it, an agent stand-in that counts its calls, and the live
library, store and review desk over the sample data."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.answer import Answer
from bot.review import Proposal, Review
from executor.config import DEFAULT_INPUT
from executor.engine import Request
from executor.verified.library import Library
from executor.verified.live import LiveLibrary
from executor.verified.proposal import propose
from executor.verified.review import ReviewDesk
from executor.verified.store import YamlVerifiedStore
from executor.warehouse.duckdb import DuckDBWarehouse
from tests.support.verified import TODAY

QUESTION = "How many purchases were made on tablets in France last month?"
PARAPHRASE = "Purchases on iPads in Germany this year"
# As an agent writes it on DuckDB: literal values, the period's dates as docs/periods.md
# counts them from the data's last day (2026-11-20).
AGENT_SQL = (
    "SELECT COUNT(*) AS purchases FROM interactions i JOIN users u ON u.user_id = i.user_id "
    "WHERE i.event_type = 'purchase' AND u.device = 'tablet' AND u.country = 'France' "
    "AND i.occurred_at >= DATE '2026-10-01' AND i.occurred_at < DATE '2026-11-01'"
)
REVIEWER = "U0REVIEW"


@dataclass
class AgentStandIn:
    """The model's engine: answers any question with AGENT_SQL, and counts its calls."""

    sql: str = AGENT_SQL
    requests: list[Request] = field(default_factory=list)

    def answer(self, request: Request) -> Answer:
        self.requests.append(request)
        return Answer(text="**2** purchases.", sql=[self.sql], as_of="2026-11-20")


@dataclass
class Desk:
    live: LiveLibrary
    store: YamlVerifiedStore
    desk: ReviewDesk


def review_desk(library: Library, tmp_path: Path, eval_questions: tuple[str, ...] = ()) -> Desk:
    """A desk on a fresh YAML store, the sample data, and an evaluation set of
    `eval_questions` (none: no file)."""
    store = YamlVerifiedStore(tmp_path / "results" / "verified_entries.yaml")
    live = LiveLibrary(library, store)
    questions = tmp_path / "eval" / "questions.yaml"
    if eval_questions:
        questions.parent.mkdir(parents=True)
        questions.write_text(yaml.safe_dump({"questions": [
            {"id": f"q{i}", "category": "easy", "question": q, "expect": "answer"}
            for i, q in enumerate(eval_questions)]}))
    desk = ReviewDesk(live, store, lambda: DuckDBWarehouse(DEFAULT_INPUT), questions,
                      today=lambda: TODAY)
    return Desk(live, store, desk)


def agent_proposal(live: LiveLibrary, sql: str = AGENT_SQL) -> Proposal:
    """What the worker proposes for the agent's answer to QUESTION."""
    answer = Answer(text="**2** purchases.", sql=[sql], as_of="2026-11-20")
    return propose(live.matcher(), QUESTION, answer, dialect="duckdb", today=TODAY)


def verify_review(proposal: Proposal, reviewer: str = REVIEWER) -> Review:
    return Review(source_job_id="EvAGENT", reviewer=reviewer, proposal=proposal)
