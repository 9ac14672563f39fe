"""The drift check of library entries: every entry ok on the sample data; a renamed column,
a template naming a column the result lacks, or a number answer of many rows is broken; no
rows is drift."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from executor.verified import Entry, Library, drift
from executor.verified.drift import (
    BROKEN,
    DRIFTED,
    OK,
    EntryCheck,
    check_library_entry,
    check_served,
    check_values,
    summary,
    used_columns,
)
from executor.verified.fingerprint import Fingerprint
from executor.verified.periods import ALL_TIME
from executor.verified.store import StoredEntry
from executor.warehouse.base import Warehouse
from executor.warehouse.duckdb import DuckDBWarehouse
from tests.support.verified import TODAY, sample_with_renamed_column


def test_every_library_entry_is_ok_on_the_sample_data(
    verified_library: Library, duckdb_sample: DuckDBWarehouse
) -> None:
    checks = [check_library_entry(duckdb_sample, entry, verified_library.vocabulary, TODAY)
              for entry in verified_library.entries]
    assert [c for c in checks if c.status != OK] == []
    assert summary(checks) == {OK: len(verified_library.entries), DRIFTED: 0, BROKEN: 0}


def test_a_renamed_column_breaks_the_entries_that_use_it(
    verified_library: Library, tmp_path: Path
) -> None:
    # GIVEN the sample data with users.signup_date renamed
    warehouse = DuckDBWarehouse(
        sample_with_renamed_column(tmp_path, "users", "signup_date", "registered_on"))
    try:
        # WHEN an entry counting by signup_date and one that does not use it are checked
        broken = check_library_entry(warehouse, verified_library.get("signups_count"),
                                     verified_library.vocabulary, TODAY)
        fine = check_library_entry(warehouse, verified_library.get("users_by_plan"),
                                   verified_library.vocabulary, TODAY)
    finally:
        warehouse.close()
    # THEN the first is broken, saying why; the second is ok
    assert (broken.status, broken.origin) == (BROKEN, "library")
    assert broken.reason.startswith("error: ") and "signup_date" in broken.reason
    assert fine.status == OK


def test_a_column_the_template_names_must_be_in_the_result(
    verified_library: Library, duckdb_sample: DuckDBWarehouse
) -> None:
    entry = replace(verified_library.get("users_by_plan"),
                    answer="{plan} leads with {members:,} ({last[share]}%); {rows} plans.")
    check = check_library_entry(duckdb_sample, entry, verified_library.vocabulary, TODAY)
    assert check.status == BROKEN
    assert check.reason.startswith("columns missing: members, share")


def test_a_number_answer_of_many_rows_is_broken_and_no_rows_is_drift(
    verified_library: Library, duckdb_sample: DuckDBWarehouse
) -> None:
    # GIVEN a number entry whose SQL now groups, and a ranking entry that matches nothing
    number = replace(verified_library.get("signups_count"),
                     sql="SELECT COUNT(*) AS signups FROM users "
                         "WHERE signup_date >= :start_date AND signup_date < :end_date "
                         "GROUP BY country")
    ranking = replace(verified_library.get("users_by_country"),
                      sql="SELECT country, COUNT(*) AS users FROM users "
                          "WHERE country = 'Atlantis' GROUP BY country")
    vocabulary = verified_library.vocabulary
    # THEN the number is broken and the empty ranking drifted
    many = check_library_entry(duckdb_sample, number, vocabulary, TODAY)
    assert many.status == BROKEN and "rows, not 1" in many.reason
    empty = check_library_entry(duckdb_sample, ranking, vocabulary, TODAY)
    assert (empty.status, empty.reason) == (DRIFTED, "no rows")


def test_used_columns_are_the_templates_fields_and_the_charts_axes(
    verified_library: Library,
) -> None:
    by_month = verified_library.get("signups_by_month")
    assert used_columns(by_month) == {"signups", "month"}
    funnel = verified_library.get("funnel_by_device")
    assert {"device", "view_to_purchase_pct"} <= used_columns(funnel)


@pytest.mark.parametrize(("entry_id", "expected"), [
    ("signups_count", {"period": ALL_TIME}),
    ("active_users_in_period", {"period": ALL_TIME}),
    ("top_items", {"n": 10}),
])
def test_each_parameter_takes_its_default_or_a_stand_in(
    verified_library: Library, entry_id: str, expected: dict[str, object]
) -> None:
    assert check_values(verified_library.get(entry_id), verified_library.vocabulary) == expected


def test_a_value_list_parameter_without_default_takes_the_lists_first_value(
    verified_library: Library,
) -> None:
    values = check_values(verified_library.get("signups_in_country"),
                          verified_library.vocabulary)
    first_country = next(iter(verified_library.vocabulary.values["country"].values()))
    assert values["country"] == first_country


def test_a_stored_copy_merged_into_the_file_is_checked_once_as_the_files_entry(
    verified_library: Library, duckdb_sample: DuckDBWarehouse
) -> None:
    # GIVEN a stored entry whose id the file now uses, with a fingerprint that fits nothing
    copy = StoredEntry(id="signups_count", question="How many users signed up?",
                       sql="SELECT 1 AS one", explanation="x", verified_by="U0REVIEWER",
                       verified_at="2026-11-30",
                       fingerprint=Fingerprint(("one",), ("number",), 1, "abc"))
    # WHEN what the engine serves is checked
    checks = check_served(duckdb_sample, verified_library, [copy], TODAY, tolerance=0.05)
    # THEN the file's entry is checked, by its shape, and nothing else under that id
    assert [(c.origin, c.status) for c in checks if c.entry_id == "signups_count"] == [
        ("library", OK)]
    assert len(checks) == len(verified_library.entries)


def test_one_entrys_unexpected_failure_is_reported_and_the_rest_still_checked(
    verified_library: Library, duckdb_sample: DuckDBWarehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a check that fails in an unforeseen way for one entry
    real = drift.check_library_entry

    def flaky(warehouse: Warehouse, entry: Entry, *args: Any) -> EntryCheck:
        if entry.id == "users_by_plan":
            raise RuntimeError("driver hiccup")
        return real(warehouse, entry, *args)

    monkeypatch.setattr(drift, "check_library_entry", flaky)
    # WHEN everything is checked
    checks = check_served(duckdb_sample, verified_library, [], TODAY, tolerance=0.05)
    # THEN that entry is broken, saying so, and every other entry was checked
    broken = [c for c in checks if c.status == BROKEN]
    assert [(c.entry_id, c.reason) for c in broken] == [
        ("users_by_plan", "unexpected error: RuntimeError('driver hiccup')")]
    assert len(checks) == len(verified_library.entries)
