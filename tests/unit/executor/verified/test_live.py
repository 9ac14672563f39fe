"""The live library: the static file plus stored entries, minus retired ones, read again
at most every interval, and never taken down by a stored entry that does not load."""

from __future__ import annotations

from pathlib import Path

import pytest

from executor.verified.library import Library
from executor.verified.live import LiveLibrary
from executor.verified.store import StoredEntry, YamlVerifiedStore
from tests.support.clock import Clock

QUESTION = "How many purchases were made on tablets?"


def stored(entry_id: str = "tablet_purchases", **changes: object) -> StoredEntry:
    fields: dict[str, object] = dict(
        id=entry_id, question=QUESTION, paraphrases=("Tablet purchases",),
        intent={"metric": ["purchase"], "shape": "number"},
        params={"device": {"type": "enum", "values": "device"}},
        sql="SELECT COUNT(*) AS purchases FROM interactions i JOIN users u USING (user_id) "
            "WHERE i.event_type = 'purchase' AND u.device = :device",
        explanation="Purchases by users on tablets.", verified_by="U0REVIEW",
        verified_at="2026-11-21",
    )
    return StoredEntry(**{**fields, **changes})  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> YamlVerifiedStore:
    return YamlVerifiedStore(tmp_path / "verified_entries.yaml")


def answered_by(live: LiveLibrary, question: str) -> str | None:
    match = live.matcher().match(question)
    return match.entry.id if match else None


def test_a_stored_entry_is_served_within_the_reload_interval(
    verified_library: Library, store: YamlVerifiedStore
) -> None:
    # GIVEN a running library that reloads every 30 s, and nothing stored yet
    clock = Clock()
    live = LiveLibrary(verified_library, store, interval_s=30, clock=clock)
    assert answered_by(live, QUESTION) is None
    # WHEN an entry is stored (by another worker) and 29 s pass
    store.put(stored())
    clock.now += 29
    # THEN it is not read yet; at 30 s it is answered, by the question and its paraphrase
    assert answered_by(live, QUESTION) is None
    clock.now += 1
    assert answered_by(live, QUESTION) == "tablet_purchases"
    assert answered_by(live, "tablet purchases") == "tablet_purchases"
    # AND the static entries are still served
    assert answered_by(live, "How many users signed up?") == "signups_count"


def test_retired_entries_are_not_served_static_ones_included(
    verified_library: Library, store: YamlVerifiedStore
) -> None:
    # GIVEN a stored entry and a static one, both answered
    store.put(stored())
    live = LiveLibrary(verified_library, store, interval_s=30, clock=Clock())
    assert answered_by(live, "How many users signed up?") == "signups_count"
    # WHEN both are retired and the library is read again
    store.retire("tablet_purchases", "U0REVIEW")
    store.retire("signups_count", "U0REVIEW")
    live.refresh()
    # THEN neither answers any more
    assert answered_by(live, QUESTION) is None
    assert answered_by(live, "How many users signed up?") is None


def test_a_stored_entry_that_does_not_load_is_skipped(
    verified_library: Library, store: YamlVerifiedStore, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN a stored entry whose SQL names a placeholder no parameter binds, a stored entry
    # reusing a library id, and a good one
    store.put(stored("broken", question="How many views on tablets?",
                     sql="SELECT COUNT(*) FROM interactions WHERE device = :who"))
    store.put(stored("signups_count"))
    store.put(stored())
    # WHEN the library loads
    live = LiveLibrary(verified_library, store)
    # THEN the good entry and the whole static library are served, and both others logged
    assert answered_by(live, QUESTION) == "tablet_purchases"
    ids = [entry.id for entry in live.library.entries]
    assert "broken" not in ids and ids.count("signups_count") == 1
    assert len(ids) == len(verified_library.entries) + 1
    assert "broken" in caplog.text and "reuses a library id" in caplog.text


def test_an_unreadable_store_keeps_the_library_as_it_was(verified_library: Library) -> None:
    class Down(YamlVerifiedStore):
        def entries(self) -> list[StoredEntry]:
            raise OSError("store unreachable")

    live = LiveLibrary(verified_library, Down(Path("unused")))
    assert live.library.entries == verified_library.entries
