"""Stored entries as library YAML: appended under the static file's `entries:`, the
library loader reads them, with the static file's keys in its order."""

from __future__ import annotations

from datetime import date
from typing import Any

import yaml

from executor.verified.export import KEY_ORDER, library_yaml
from executor.verified.library import DEFAULT_LIBRARY, parse_library

STORED: dict[str, Any] = {
    "fingerprint": {"columns": ["plan", "churned"], "row_count": 3},
    "verified_by": "U0REVIEWER",
    "explanation": "Users whose churned_at falls in the period, by plan.",
    "sql": "SELECT plan, COUNT(*) AS churned\nFROM users\n"
           "WHERE churned_at >= :start_date AND churned_at < :end_date\nGROUP BY plan\n\n",
    "params": {"period": {"type": "period", "default": "all time"}},
    "paraphrases": ("Churn by plan", "Churned users per plan"),
    "question": "How many users churned on each plan?",
    "id": "churned_by_plan_count",
    "verified_at": date(2026, 11, 30),
    "source_job_id": "Ev0SOURCE",
    "status": "active",
}


def test_the_export_appended_to_the_library_loads_with_the_library_loader() -> None:
    # GIVEN two stored entries, keys in no particular order, with store-only keys
    exported = library_yaml([STORED, {**STORED, "id": "churned_by_plan_again"}])
    # WHEN appended to input/verified_queries.yaml
    merged = DEFAULT_LIBRARY.read_text(encoding="utf-8").rstrip("\n") + "\n\n" + exported
    library = parse_library(yaml.safe_load(merged), source="merged")
    # THEN the loader reads them as entries like any other
    entry = library.get("churned_by_plan_again")
    assert library.entries[-2].id == "churned_by_plan_count"
    assert entry.paraphrases == ("Churn by plan", "Churned users per plan")
    assert entry.sql.endswith("GROUP BY plan") and entry.verified_at == date(2026, 11, 30)
    assert [p.name for p in entry.params] == ["period"]


def test_keys_come_in_the_static_files_order_and_store_keys_stay_out() -> None:
    (item,) = yaml.safe_load(library_yaml([STORED]))
    assert list(item) == [key for key in KEY_ORDER if key in STORED]
    # AND the order is the one the static file's own entries use
    static = yaml.safe_load(DEFAULT_LIBRARY.read_text(encoding="utf-8"))["entries"]
    for entry in static:
        assert [key for key in KEY_ORDER if key in entry] == list(entry), entry["id"]


def test_the_sql_is_a_literal_block_indented_under_entries() -> None:
    text = library_yaml([STORED])
    assert text.startswith("  - id: churned_by_plan_count\n")
    assert "    sql: |\n      SELECT plan, COUNT(*) AS churned\n" in text
    assert "&" not in text and "*id" not in text


def test_an_entry_without_paraphrases_gets_its_question_as_one_so_the_file_loads() -> None:
    bare = {key: value for key, value in STORED.items() if key != "paraphrases"}
    merged = DEFAULT_LIBRARY.read_text(encoding="utf-8") + "\n" + library_yaml([bare])
    entry = parse_library(yaml.safe_load(merged)).entries[-1]
    assert entry.paraphrases == (STORED["question"],)


def test_nothing_to_export_is_empty() -> None:
    assert library_yaml([]) == ""
