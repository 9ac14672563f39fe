"""The review desk: a reviewer's proposal checked, run, fingerprinted and stored, or
refused with the reason; an entry retired."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.asker import Asker
from bot.review import Review
from executor.verified.fingerprint import Fingerprint
from executor.verified.library import Library
from executor.verified.review import (
    VERIFIED,
    Refused,
    answer_template,
    intent_of,
    read_eval_questions,
)
from executor.verified.text import Normaliser
from tests.support.audit import MemoryAuditStore, memory_trail
from tests.support.review import (
    PARAPHRASE,
    QUESTION,
    REVIEWER,
    agent_proposal,
    review_desk,
    verify_review,
)


def answered_by(desk_live: object, question: str) -> str | None:
    match = desk_live.matcher().match(question)  # type: ignore[attr-defined]
    return match.entry.id if match else None


def test_a_verified_entry_is_stored_with_its_fingerprint_and_served_at_once(
    verified_library: Library, tmp_path: Path
) -> None:
    # GIVEN the agent's proposal for a question the library does not answer
    desk = review_desk(verified_library, tmp_path)
    proposal = replace(agent_proposal(desk.live), name="tablet_purchases",
                       paraphrases=(PARAPHRASE,))
    assert answered_by(desk.live, QUESTION) is None
    # WHEN a reviewer verifies it
    notice = desk.desk.verify(verify_review(proposal), job_id="J1")
    # THEN it is stored as the reviewer's, with the result's fingerprint and source job
    assert notice == VERIFIED
    stored = desk.store.get("tablet_purchases")
    assert stored is not None and stored.active
    assert stored.verified_by == REVIEWER and stored.source_job_id == "EvAGENT"
    assert stored.fingerprint is not None and stored.fingerprint.columns == ("purchases",)
    assert stored.fingerprint.row_count == 1
    assert stored.intent == {"metric": ["purchase"], "shape": "number"}
    assert stored.answer == "purchases: **{purchases:,}**{filters}."
    # AND the question, its paraphrase and other values of its parameters are answered
    assert answered_by(desk.live, QUESTION) == "tablet_purchases"
    assert answered_by(desk.live, PARAPHRASE) == "tablet_purchases"
    assert answered_by(desk.live, "How many purchases were made on phones in Spain this year?"
                       ) == "tablet_purchases"


def test_an_entry_that_changes_an_evaluation_answer_is_refused(
    verified_library: Library, tmp_path: Path
) -> None:
    # GIVEN an evaluation set with a near miss the library leaves unanswered
    near_miss = "How many purchases were made on phones last month?"
    desk = review_desk(verified_library, tmp_path, (near_miss,))
    # AND a proposal whose country the reviewer removed: it would answer the near miss
    proposal = agent_proposal(desk.live)
    proposal = replace(
        proposal,
        question="How many purchases were made on tablets last month?",
        params=tuple(p for p in proposal.params if p.name != "country"),
        sql=proposal.sql.replace("AND u.country = :country", ""),
    )
    # WHEN it is verified THEN it is refused, naming the question and the change
    with pytest.raises(Refused) as refused:
        desk.desk.verify(verify_review(proposal), job_id="J1")
    assert near_miss in str(refused.value)
    assert f"(unanswered → {proposal.name})" in str(refused.value)
    assert desk.store.entries() == []


def test_an_entry_that_takes_an_existing_entrys_question_is_refused(
    verified_library: Library, tmp_path: Path
) -> None:
    # GIVEN a proposal for a question a library entry answers already
    desk = review_desk(verified_library, tmp_path)
    proposal = replace(agent_proposal(desk.live), question="How many users signed up?",
                       params=(), sql="SELECT COUNT(*) AS signups FROM users")
    # THEN it is refused: the library would not answer it from the new entry
    with pytest.raises(Refused) as refused:
        desk.desk.verify(verify_review(proposal), job_id="J1")
    assert "would not answer “How many users signed up?”" in str(refused.value)
    assert "ambiguous" in str(refused.value)


def test_unsafe_sql_is_refused_and_nothing_runs(verified_library: Library, tmp_path: Path
                                                 ) -> None:
    desk = review_desk(verified_library, tmp_path)
    proposal = agent_proposal(desk.live)
    unsafe = replace(proposal, sql=proposal.sql.replace("FROM interactions",
                                                        "FROM pg_catalog.pg_user, interactions"))
    with pytest.raises(Refused) as refused:
        desk.desk.verify(verify_review(unsafe), job_id="J1")
    assert str(refused.value).startswith("Not verified: the SQL is not safe to run:")
    assert desk.store.entries() == []


def test_sql_the_warehouse_rejects_is_refused(verified_library: Library, tmp_path: Path) -> None:
    desk = review_desk(verified_library, tmp_path)
    proposal = agent_proposal(desk.live)
    broken = replace(proposal, sql=proposal.sql.replace("COUNT(*)", "COUNT(i.no_such_column)"))
    with pytest.raises(Refused) as refused:
        desk.desk.verify(verify_review(broken), job_id="J1")
    assert "no_such_column" in str(refused.value)


def test_a_taken_name_or_a_malformed_entry_is_refused(
    verified_library: Library, tmp_path: Path
) -> None:
    desk = review_desk(verified_library, tmp_path)
    proposal = agent_proposal(desk.live)
    with pytest.raises(Refused, match="named `signups_count` exists already"):
        desk.desk.verify(verify_review(replace(proposal, name="signups_count")), job_id="J1")
    with pytest.raises(Refused, match="placeholders no parameter binds"):
        desk.desk.verify(verify_review(replace(proposal, params=())), job_id="J1")
    # AND a second verification under a stored name is refused
    desk.desk.verify(verify_review(proposal), job_id="J1")
    with pytest.raises(Refused, match="exists already"):
        desk.desk.verify(verify_review(proposal), job_id="J2")


def test_retiring_stops_the_entry_answering(verified_library: Library, tmp_path: Path) -> None:
    # GIVEN a verified entry and a static one
    desk = review_desk(verified_library, tmp_path)
    desk.desk.verify(verify_review(replace(agent_proposal(desk.live), name="tablet_purchases")),
                     job_id="J1")
    # WHEN a reviewer retires both
    for entry_id in ("tablet_purchases", "signups_count"):
        notice = desk.desk.retire(Review("EvX", REVIEWER, entry_id=entry_id), job_id="J2")
        assert f"`{entry_id}` no longer answers questions" in notice
    # THEN neither answers, and retiring again or an unknown id is refused
    assert answered_by(desk.live, QUESTION) is None
    assert answered_by(desk.live, "How many users signed up?") is None
    with pytest.raises(Refused, match="retired already, by U0REVIEW"):
        desk.desk.retire(Review("EvX", REVIEWER, entry_id="tablet_purchases"), job_id="J3")
    with pytest.raises(Refused, match="No verified entry is named `nope`"):
        desk.desk.retire(Review("EvX", REVIEWER, entry_id="nope"), job_id="J3")


def test_the_evaluation_questions_are_read_when_the_file_exists(tmp_path: Path) -> None:
    assert read_eval_questions(tmp_path / "absent.yaml") == []
    path = tmp_path / "questions.yaml"
    path.write_text("questions:\n  - {id: a, category: easy, question: 'How many users?', "
                    "expect: answer}\n  - {id: b, category: refuse, question: Drop users, "
                    "previous: hi, expect: refusal}\n")
    assert read_eval_questions(path) == ["How many users?", "Drop users"]


def test_the_intent_is_what_the_library_reads_in_the_question(
    verified_library: Library
) -> None:
    normaliser = Normaliser(verified_library.vocabulary)
    assert intent_of("Average order value by country", normaliser) == {
        "metric": ["purchase value"], "statistic": ["average"], "grouping": ["country"],
        "shape": "ranking"}
    # "how many" is the library's default statistic: none is declared
    assert intent_of(QUESTION, normaliser) == {"metric": ["purchase"], "shape": "number"}


def test_a_one_row_result_is_answered_in_words_others_by_the_table() -> None:
    one = Fingerprint(("country", "buyer_share"), ("text", "number"), 1, "x")
    assert answer_template(one) == (
        "country: **{country}**; buyer share: **{buyer_share:,}**{filters}.")
    assert answer_template(replace(one, row_count=3)) is None
    assert answer_template(replace(one, columns=("country", "count(*)"))) is None


def test_a_verification_s_statements_and_refusals_are_in_the_audit_trail(
    verified_library: Library, tmp_path: Path
) -> None:
    # GIVEN a desk that records in an audit trail
    store = MemoryAuditStore()
    desk = review_desk(verified_library, tmp_path)
    audited = replace(desk.desk, audit=memory_trail(store))
    reviewer = Asker("slack", REVIEWER, "T0001", "C0001")
    proposal = replace(agent_proposal(desk.live), name="tablet_purchases")
    unsafe = replace(proposal, sql=proposal.sql.replace(
        "FROM interactions", "FROM pg_catalog.pg_user, interactions"))
    # WHEN a reviewer verifies a proposal, and then an unsafe one
    audited.verify(verify_review(proposal), job_id="J1", asker=reviewer)
    with pytest.raises(Refused):
        audited.verify(verify_review(replace(unsafe, name="deleted")), job_id="J2",
                       asker=reviewer)
    # THEN the run is recorded as the reviewer's (written when its warehouse closed)
    ran = [r for r in store.records if r["job_id"] == "J1" and "MAX(" not in r["sql"]]
    assert [(r["outcome"], r["user"], r["channel"]) for r in ran] == [
        ("ok", REVIEWER, "C0001")]
    # AND the unsafe one as refused
    [refused] = [r for r in store.records if r["job_id"] == "J2"]
    assert refused["outcome"] == "refused" and "pg_catalog.pg_user" in refused["sql"]
