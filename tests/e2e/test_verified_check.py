"""End to end, as the stack's daily schedule runs it: `databot verified check` in its own
process, on a warehouse whose users.signup_date was renamed upstream, with an entry stored
from chat beside the library. It names every broken entry and exits non-zero."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from executor.config import DEFAULT_INPUT
from executor.verified.fingerprint import fingerprint_entry
from executor.verified.library import load_library, parse_entry
from executor.verified.store import StoredEntry, YamlVerifiedStore
from executor.warehouse.duckdb import DuckDBWarehouse
from tests.support.metrics import counts
from tests.support.verified import TODAY, sample_with_renamed_column

pytestmark = pytest.mark.integration

STORED = StoredEntry(
    id="signups_by_plan_month", question="How many users signed up on each plan?",
    sql="SELECT plan, MIN(signup_date) AS first_signup, COUNT(*) AS users FROM users "
        "GROUP BY plan ORDER BY plan",
    explanation="Users by plan, with the first signup.", verified_by="U0REVIEWER",
    verified_at="2026-11-30", source_job_id="Ev0SOURCE",
)


def test_the_check_names_the_entries_a_renamed_column_broke(tmp_path: Path) -> None:
    # GIVEN an entry verified from chat on the sample data, kept in the local store
    library = load_library()
    warehouse = DuckDBWarehouse(DEFAULT_INPUT)
    try:
        fingerprint = fingerprint_entry(
            warehouse, parse_entry(STORED.to_library(), library.vocabulary, STORED.id), {},
            TODAY)
    finally:
        warehouse.close()
    results = tmp_path / "results"
    YamlVerifiedStore(results / "verified_entries.yaml").put(
        replace(STORED, fingerprint=fingerprint))
    # AND the warehouse's users.signup_date renamed
    data = tmp_path / "warehouse"
    data.mkdir()
    sample_with_renamed_column(data, "users", "signup_date", "registered_on")
    env = {**os.environ, "WAREHOUSE_URL": f"duckdb://{data}", "RESULTS_DIR": str(results),
           "MODEL_PROVIDER": "offline", "POWERTOOLS_METRICS_NAMESPACE": "databot"}
    env.pop("VERIFIED_TABLE", None)

    # WHEN the scheduled command runs
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from executor.cli import main; "
                               "sys.exit(main(['verified', 'check', '--json']))"],
        env=env, capture_output=True, text=True, timeout=300, check=False)

    # THEN it exits non-zero, naming the broken library and stored entries and why
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    report = json.loads("\n".join(line for line in lines if not line.startswith("{\"_aws\"")))
    status = {entry["entry_id"]: entry for entry in report["entries"]}
    assert status["signups_count"]["status"] == "broken"
    assert status[STORED.id] == {"entry_id": STORED.id, "origin": "stored", "status": "broken",
                                 "reason": status[STORED.id]["reason"]}
    assert "signup_date" in status[STORED.id]["reason"]
    assert status["users_by_plan"]["status"] == "ok"
    # AND the metric the alarm watches counts them
    emitted = counts([json.loads(line) for line in lines if line.startswith("{\"_aws\"")])
    assert emitted["VerifiedBroken"] == report["summary"]["broken"] >= 2
