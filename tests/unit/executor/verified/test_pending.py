"""Answers waiting for a reviewer: a 👍 from someone other than the asker, no 👎, not
already verified, the job still recorded with its asker."""

from __future__ import annotations

from typing import Any

from bot.feedback import DOWN, UP, Vote
from bot.job_store import JobRecord
from executor.verified.pending import pending_answers


def record(job_id: str, *, asker: str | None = "U0ASKER", verified: bool = False,
           sql: list[str] | None = None) -> JobRecord:
    answer: dict[str, Any] = {"text": "…", "sql": sql or [f"SELECT '{job_id}'"],
                              "verified": verified}
    return JobRecord(job_id=job_id, status="done", source="slack", question=f"{job_id}?",
                     created_at="2026-11-30T09:00:00Z", updated_at="", answer=answer,
                     user_id=asker)


def vote(job_id: str, user: str, value: str = UP, at: str = "2026-11-30T10:00:00Z",
         **fields: Any) -> Vote:
    return Vote(job_id=job_id, user_id=user, value=value, voted_at=at, **fields)


def test_only_answers_liked_by_someone_else_and_disliked_by_nobody_are_pending() -> None:
    # GIVEN votes on six answers
    records = {job: record(job) for job in ("LIKED", "OWN", "MIXED", "DOWN", "OLD")}
    records["VERIFIED"] = record("VERIFIED", verified=True)
    records["UNKNOWN"] = record("UNKNOWN", asker=None)
    votes = [
        vote("LIKED", "U1", at="2026-11-30T10:00:00Z"),
        vote("LIKED", "U0ASKER", at="2026-11-30T10:05:00Z"),
        vote("LIKED", "U2", at="2026-11-30T10:03:00Z"),
        vote("OWN", "U0ASKER"),                         # only the asker liked it
        vote("MIXED", "U1"), vote("MIXED", "U2", DOWN),  # someone disliked it
        vote("DOWN", "U1", DOWN),
        vote("VERIFIED", "U1"),                         # answered from a verified query
        vote("GONE", "U1"),                             # its record expired
        vote("UNKNOWN", "U1"),                          # its record does not name the asker
        vote("OLD", "U3", at="2026-11-29T08:00:00Z"),
    ]
    # WHEN the pending answers are picked
    pending = pending_answers(votes, records.get)
    # THEN exactly the answers others liked and nobody disliked, newest 👍 first
    assert [p.job_id for p in pending] == ["LIKED", "OLD"]
    liked = pending[0]
    assert (liked.asker, liked.endorsed_by, liked.endorsed_at) == (
        "U0ASKER", ("U1", "U2"), "2026-11-30T10:03:00Z")
    assert (liked.question, liked.sql) == ("LIKED?", ("SELECT 'LIKED'",))


def test_since_keeps_recent_likes_but_an_old_thumbs_down_still_rules_out() -> None:
    records = {job: record(job) for job in ("RECENT", "STALE", "REDEEMED")}
    votes = [
        vote("RECENT", "U1", at="2026-11-30T10:00:00Z"),
        vote("STALE", "U1", at="2026-10-01T10:00:00Z"),
        vote("REDEEMED", "U1", DOWN, at="2026-10-01T10:00:00Z"),
        vote("REDEEMED", "U2", at="2026-11-30T10:00:00Z"),
    ]
    pending = pending_answers(votes, records.get, since="2026-11-01T00:00:00Z")
    assert [p.job_id for p in pending] == ["RECENT"]


def test_a_vote_saying_the_answer_was_verified_rules_it_out_even_without_the_record_flag(
) -> None:
    records = {"J1": record("J1")}
    assert pending_answers([vote("J1", "U1", verified=True)], records.get) == []
