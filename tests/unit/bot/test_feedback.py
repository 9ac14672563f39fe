"""FEEDBACK_TABLE (moto): one vote per person per answer, what it was about, and tallies."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, Env
from bot.feedback import DOWN, UP, FeedbackConfig, FeedbackStore, Tally, Vote, tally
from bot.job_store import JobRecord


def vote(user: str, value: str, job: str = "J1", at: str = "2026-11-30T10:00:00Z",
         **fields: object) -> Vote:
    return Vote(job_id=job, user_id=user, value=value, voted_at=at, **fields)  # type: ignore[arg-type]


def test_a_vote_round_trips_with_everything_it_says(feedback_store: FeedbackStore) -> None:
    kept = vote("U1", UP, team_id="T1", question="how many?", sql=["SELECT 1", "SELECT 2"],
                verified=True, entry_id="signups", model_id=None)
    feedback_store.record(kept)
    assert feedback_store.votes() == [kept]


def test_voting_again_replaces_the_vote_and_every_voter_counts(
    feedback_store: FeedbackStore,
) -> None:
    feedback_store.record(vote("U1", DOWN, at="2026-11-30T10:00:00Z"))
    feedback_store.record(vote("U2", UP, at="2026-11-30T10:01:00Z"))
    feedback_store.record(vote("U1", UP, at="2026-11-30T10:02:00Z"))
    feedback_store.record(vote("U1", UP, job="J2", at="2026-11-30T10:03:00Z"))

    votes = feedback_store.votes()
    # Newest first; one item per person per answer.
    assert [(v.job_id, v.user_id, v.value) for v in votes] == [
        ("J2", "U1", UP), ("J1", "U1", UP), ("J1", "U2", UP)]


def test_a_reason_turns_the_vote_into_an_explained_thumbs_down(
    feedback_store: FeedbackStore,
) -> None:
    feedback_store.record(vote("U1", DOWN, question="how many?"))

    feedback_store.explain("J1", "U1", "wrong_numbers", "x" * 5000)

    [explained] = feedback_store.votes()
    assert (explained.value, explained.reason, explained.question) == (
        DOWN, "wrong_numbers", "how many?")
    assert explained.comment == "x" * 1000


def test_a_reason_without_a_kept_vote_is_kept_all_the_same(feedback_store: FeedbackStore) -> None:
    feedback_store.explain("J1", "U1", "too_slow", None)
    [explained] = feedback_store.votes()
    assert (explained.value, explained.reason, explained.comment) == (DOWN, "too_slow", None)


def test_a_vote_takes_what_it_is_about_from_the_jobs_record() -> None:
    record = JobRecord(
        job_id="J1", status="done", source="slack", question="signups in October?",
        created_at="", updated_at="",
        answer={"text": "1,234", "sql": ["SELECT 1"], "verified": True, "entry_id": "signups",
                "usage": {"model_id": None}},
    )
    cast = Vote.on(record, job_id="J1", user_id="U1", value=UP, team_id="T1")
    assert (cast.question, cast.sql, cast.verified, cast.entry_id, cast.model_id) == (
        "signups in October?", ["SELECT 1"], True, "signups", None)
    assert cast.voted_at.endswith("Z")


def test_tally_counts_up_and_down_per_key_most_voted_first() -> None:
    votes = [vote("U1", UP, model_id="m1"), vote("U2", DOWN, model_id="m1"),
             vote("U3", UP, model_id="m1"), vote("U4", DOWN, model_id="m2"),
             vote("U5", UP)]
    assert tally(votes, lambda v: v.model_id) == [Tally("m1", 2, 1), Tally("m2", 0, 1)]
    assert tally(votes, lambda v: v.model_id)[0].share_up == pytest.approx(2 / 3)


def test_the_table_is_configured_by_feedback_table() -> None:
    assert FeedbackConfig.from_env(Env({"FEEDBACK_TABLE": "t"})).table == "t"
    with pytest.raises(ConfigError, match="FEEDBACK_TABLE"):
        FeedbackConfig.from_env(Env({})).store()
