"""Answers waiting for a reviewer: agent answers (not verified ones) that someone other than
the asker gave a 👍 and nobody gave a 👎, read from FEEDBACK_TABLE's votes and the jobs'
records in JOBS_TABLE (who asked, the question, the SQL as run).

An answer whose record is gone (past its TTL) or does not name its asker is left out: a
👍 that may be the asker's own says nothing about the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.feedback import DOWN, UP, Vote
from bot.job_store import JobRecord


@dataclass(frozen=True)
class PendingAnswer:
    job_id: str
    question: str
    sql: tuple[str, ...]
    asker: str
    endorsed_by: tuple[str, ...]
    # The latest 👍's time (ISO 8601 UTC): the list is newest first by it.
    endorsed_at: str


def pending_answers(
    votes: Iterable[Vote],
    record_of: Callable[[str], JobRecord | None],
    *,
    since: str = "",
) -> list[PendingAnswer]:
    """The answers a reviewer should look at, newest 👍 first; `since` (ISO 8601) keeps those
    whose latest 👍 is that recent (older votes still count: an old 👎 still rules out)."""
    by_job: dict[str, list[Vote]] = {}
    for vote in votes:
        by_job.setdefault(vote.job_id, []).append(vote)
    found: list[PendingAnswer] = []
    for job_id, job_votes in by_job.items():
        if any(vote.value == DOWN or vote.verified for vote in job_votes):
            continue
        record = record_of(job_id)
        answer = (record.answer if record else None) or {}
        if record is None or record.user_id is None or answer.get("verified"):
            continue
        ups = [v for v in job_votes if v.value == UP and v.user_id != record.user_id]
        if not ups:
            continue
        latest = max(vote.voted_at for vote in ups)
        if latest < since:
            continue
        sql = [str(statement) for statement in answer.get("sql") or []] or ups[0].sql
        found.append(PendingAnswer(
            job_id=job_id,
            question=record.question or ups[0].question or "",
            sql=tuple(sql),
            asker=record.user_id,
            endorsed_by=tuple(sorted(vote.user_id for vote in ups)),
            endorsed_at=latest,
        ))
    return sorted(found, key=lambda answer: answer.endorsed_at, reverse=True)
