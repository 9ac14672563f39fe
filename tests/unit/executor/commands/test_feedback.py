"""`databot feedback`: the latest votes and the per-entry and per-model tallies (moto)."""

from __future__ import annotations

import pytest

from bot.feedback import DOWN, UP, FeedbackStore, Vote
from executor.cli import main


def test_lists_recent_votes_and_tallies_by_entry_and_model(
    feedback_store: FeedbackStore, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN votes on a verified answer and on two model answers
    feedback_store.record(Vote("J1", "U1", UP, "2026-11-30T10:00:00Z", question="signups?",
                      verified=True, entry_id="signups_by_month"))
    feedback_store.record(Vote("J1", "U2", DOWN, "2026-11-30T10:01:00Z", question="signups?",
                      verified=True, entry_id="signups_by_month", reason="too_slow"))
    feedback_store.record(Vote("J2", "U1", UP, "2026-11-30T10:02:00Z", question="churn?",
                      model_id="model-a"))
    feedback_store.record(Vote("J3", "U3", DOWN, "2026-11-30T10:03:00Z", question="revenue?",
                      model_id="model-b", reason="wrong_numbers", comment="off by 10%"))

    # WHEN the latest three are asked for
    assert main(["feedback", "--limit", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()

    # THEN the newest come first, with reasons; the tallies cover every vote
    assert lines[0] == "4 votes"
    assert "J3" in lines[1] and "👎" in lines[1] and "[wrong_numbers: off by 10%]" in lines[1]
    assert "J2" in lines[2] and "J1" in lines[3] and "[too_slow]" in lines[3]
    assert not any("U1  J1" in line for line in lines[:5])
    text = "\n".join(lines)
    entries = text.split("By verified entry")[1].split("By model")[0]
    assert "signups_by_month" in entries and "👍    1  👎    1" in entries
    models = text.split("By model")[1]
    assert "model-a" in models and "model-b" in models and "verified library" in models


def test_days_keeps_only_recent_votes(
    feedback_store: FeedbackStore, capsys: pytest.CaptureFixture[str]
) -> None:
    feedback_store.record(Vote("J1", "U1", UP, "2020-01-01T00:00:00Z"))
    assert main(["feedback", "--days", "7"]) == 0
    assert capsys.readouterr().out.startswith("0 votes in the last 7 days")


def test_without_feedback_table_it_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("FEEDBACK_TABLE", raising=False)
    assert main(["feedback"]) == 2
    assert "FEEDBACK_TABLE" in capsys.readouterr().err
