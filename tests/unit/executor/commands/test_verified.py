"""`databot verified`: check (DuckDB over the sample data, a copy with a renamed column, a
stored entry whose data moved), pending (moto), export (loads with the library loader) and
retire (the local store)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import boto3
import pytest
import yaml
from moto import mock_aws

from bot.feedback import DOWN, UP, FeedbackStore, Vote
from bot.job_store import JobStore
from executor.cli import main
from executor.config import DEFAULT_INPUT
from executor.verified.fingerprint import fingerprint_entry
from executor.verified.library import DEFAULT_LIBRARY, load_library, parse_entry, parse_library
from executor.verified.store import DynamoVerifiedStore, StoredEntry, YamlVerifiedStore
from executor.warehouse.duckdb import DuckDBWarehouse
from tests.support.audit import folder_records
from tests.support.local_aws import LOCAL_CREDENTIALS
from tests.support.metrics import counts
from tests.support.verified import TODAY, sample_with_renamed_column
from tests.support.worker import slack_job

JOBS_TABLE = "databot-jobs"


# --- pending ---------------------------------------------------------------------------------


def test_pending_lists_answers_others_liked_with_question_and_sql(
    feedback_store: FeedbackStore, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN two answered jobs in JOBS_TABLE, asked by U0ASKER
    client = boto3.client("dynamodb")
    client.create_table(
        TableName=JOBS_TABLE, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "job_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "job_id", "KeyType": "HASH"}])
    monkeypatch.setenv("JOBS_TABLE", JOBS_TABLE)
    jobs = JobStore(JOBS_TABLE, client=client)
    for job_id, question in (("JLIKED", "churn by plan?"), ("JDISLIKED", "revenue by week?")):
        job = slack_job(question, job_id=job_id)
        jobs.claim(job, attempt=1)
        jobs.mark_done(job_id, {"text": "…", "sql": [f"SELECT '{job_id}' AS answer"],
                                "verified": False})
    asker = slack_job().user_id
    # AND votes: a colleague liked the first; the second was liked and disliked
    feedback_store.record(Vote("JLIKED", "U0COLLEAGUE", UP, "2026-11-30T10:00:00Z"))
    feedback_store.record(Vote("JLIKED", asker, UP, "2026-11-30T10:01:00Z"))
    feedback_store.record(Vote("JDISLIKED", "U0COLLEAGUE", UP, "2026-11-30T10:02:00Z"))
    feedback_store.record(Vote("JDISLIKED", "U0OTHER", DOWN, "2026-11-30T10:03:00Z"))

    # WHEN a reviewer asks what is pending
    assert main(["verified", "pending"]) == 0
    out = capsys.readouterr().out

    # THEN only the liked answer is listed, with who asked, who liked it, question and SQL
    assert out.startswith("1 answers to review")
    assert "JLIKED" in out and "JDISLIKED" not in out
    assert f"asked by {asker}, 👍 from U0COLLEAGUE\n" in out
    assert "churn by plan?" in out and "SELECT 'JLIKED' AS answer" in out


def test_pending_without_the_jobs_table_says_so(
    feedback_store: FeedbackStore, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("JOBS_TABLE", raising=False)
    assert main(["verified", "pending"]) == 2
    assert "JOBS_TABLE" in capsys.readouterr().err


# --- check, export, retire: the local store in RESULTS_DIR, DuckDB over the sample data ------

STORED = StoredEntry(
    id="signups_per_plan_count", question="How many users signed up on each plan?",
    sql="SELECT plan, COUNT(*) AS users FROM users GROUP BY plan ORDER BY plan",
    explanation="Users by plan, all time.", verified_by="U0REVIEWER",
    verified_at="2026-11-30", source_job_id="Ev0SOURCE",
)


@pytest.fixture
def local_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> YamlVerifiedStore:
    """The embedded defaults (DuckDB over input/, offline), the verified entries in a
    YAML file under RESULTS_DIR, metrics off."""
    monkeypatch.setenv("RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.setenv("MODEL_PROVIDER", "offline")
    for name in ("VERIFIED_TABLE", "WAREHOUSE_URL", "RESULTS_BUCKET",
                 "POWERTOOLS_METRICS_NAMESPACE"):
        monkeypatch.delenv(name, raising=False)
    return YamlVerifiedStore(tmp_path / "results" / "verified_entries.yaml")


def fingerprinted_on(folder: Path, entry: StoredEntry) -> StoredEntry:
    """`entry` with the fingerprint its SQL gives on the data in `folder`."""
    library = load_library()
    parsed = parse_entry(entry.to_library(), library.vocabulary, entry.id)
    warehouse = DuckDBWarehouse(folder)
    try:
        return replace(entry, fingerprint=fingerprint_entry(warehouse, parsed, {}, TODAY))
    finally:
        warehouse.close()


def half_of_the_users(folder: Path) -> Path:
    """The sample data with only the first half of the users."""
    for name in ("users.csv", "interactions.csv", "schema.yaml"):
        shutil.copy(DEFAULT_INPUT / name, folder / name)
    lines = (folder / "users.csv").read_text().splitlines(keepends=True)
    (folder / "users.csv").write_text("".join(lines[: len(lines) // 2]))
    return folder


def test_check_reports_every_entry_ok_on_the_sample_data(
    local_store: YamlVerifiedStore, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a stored entry fingerprinted on the sample data itself
    local_store.put(fingerprinted_on(DEFAULT_INPUT, STORED))
    # WHEN every entry is checked
    assert main(["verified", "check"]) == 0
    lines = capsys.readouterr().out.splitlines()
    # THEN the library's and the stored entry are all ok
    entries = len(load_library().entries) + 1
    assert lines[-1] == f"{entries} verified queries: 0 broken, 0 drifted, {entries} ok"
    (stored,) = [line for line in lines if "signups_per_plan_count" in line]
    assert stored.split()[:3] == ["ok", "signups_per_plan_count", "stored"]


def test_check_finds_entries_broken_by_a_renamed_column_and_exits_non_zero(
    local_store: YamlVerifiedStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN the warehouse's users.signup_date renamed upstream, and metrics on
    folder = sample_with_renamed_column(tmp_path, "users", "signup_date", "registered_on")
    monkeypatch.setenv("WAREHOUSE_URL", f"duckdb://{folder}")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "databot")
    # WHEN the check runs, as the schedule runs it
    code = main(["verified", "check", "--json"])
    out = capsys.readouterr().out.splitlines()
    # THEN it fails, names each broken entry and why, and counts them for the alarm
    assert code == 1
    report = json.loads("\n".join(line for line in out if not line.startswith('{"_aws"')))
    broken = {e["entry_id"]: e["reason"] for e in report["entries"] if e["status"] == "broken"}
    assert {"signups_count", "signups_by_month", "signups_in_country"} <= set(broken)
    assert "signup_date" in broken["signups_count"]
    assert report["entries"][0].keys() == {"entry_id", "origin", "status", "reason"}
    assert report["summary"]["broken"] == len(broken) and report["summary"]["ok"] > 0
    emitted = counts([json.loads(line) for line in out if line.startswith('{"_aws"')])
    assert emitted["VerifiedBroken"] == len(broken)
    assert emitted["VerifiedDrifted"] == 0 and emitted["VerifiedOk"] == report["summary"]["ok"]


def test_check_finds_a_stored_entry_drifted_beyond_the_tolerance(
    local_store: YamlVerifiedStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an entry verified when there were half as many users
    local_store.put(fingerprinted_on(half_of_the_users(tmp_path), STORED))
    # WHEN it is checked on the whole sample data
    assert main(["verified", "check"]) == 0
    (line,) = [line for line in capsys.readouterr().out.splitlines()
               if "signups_per_plan_count" in line]
    # THEN it has drifted (which is reported, not failed): its counts moved by about half
    assert line.split()[:3] == ["drifted", "signups_per_plan_count", "stored"]
    assert "total of users moved" in line and "tolerance 5%" in line
    # AND with a tolerance that wide it is ok
    assert main(["verified", "check", "--tolerance", "0.9", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    (entry,) = [e for e in report["entries"] if e["entry_id"] == "signups_per_plan_count"]
    assert entry["status"] == "ok"


def test_check_reports_a_stored_entry_whose_columns_changed_as_broken(
    local_store: YamlVerifiedStore, capsys: pytest.CaptureFixture[str]
) -> None:
    verified = fingerprinted_on(DEFAULT_INPUT, STORED)
    local_store.put(replace(verified, sql=STORED.sql.replace("AS users", "AS members")))
    assert main(["verified", "check"]) == 1
    (line,) = [line for line in capsys.readouterr().out.splitlines()
               if "signups_per_plan_count" in line]
    assert line.startswith("broken") and "columns changed from plan, users to plan, members" \
        in line


def test_check_that_cannot_run_exits_2_and_says_why(
    local_store: YamlVerifiedStore, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN a warehouse that cannot be opened, and metrics on
    monkeypatch.setenv("WAREHOUSE_URL", "oracle://nowhere")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "databot")
    # WHEN the check runs
    assert main(["verified", "check"]) == 2
    captured = capsys.readouterr()
    # THEN it says why, and counts a failed check for the alarm (no entry was checked)
    assert "cannot check: WAREHOUSE_URL" in captured.err
    emitted = counts([json.loads(line) for line in captured.out.splitlines()
                      if line.startswith('{"_aws"')])
    assert emitted == {"VerifiedCheckFailed": 1}


def test_export_writes_active_entries_that_load_appended_to_the_library(
    local_store: YamlVerifiedStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an active and a retired stored entry
    local_store.put(fingerprinted_on(DEFAULT_INPUT, STORED))
    local_store.put(replace(STORED, id="retired_entry"))
    local_store.retire("retired_entry", "U0REVIEWER")
    # WHEN they are exported
    output = tmp_path / "export.yaml"
    assert main(["verified", "export", "--output", str(output)]) == 0
    assert "wrote 1 entries" in capsys.readouterr().err
    # THEN appended to the library file, the loader reads the active one like any other
    merged = DEFAULT_LIBRARY.read_text(encoding="utf-8") + "\n" + output.read_text()
    library = parse_library(yaml.safe_load(merged), source="merged")
    assert library.entries[-1].id == "signups_per_plan_count"
    assert library.entries[-1].sql == STORED.sql
    assert "retired_entry" not in output.read_text()
    assert "fingerprint" not in output.read_text()


def test_retire_retires_a_stored_entry_and_refuses_an_unknown_one(
    local_store: YamlVerifiedStore, capsys: pytest.CaptureFixture[str]
) -> None:
    local_store.put(fingerprinted_on(DEFAULT_INPUT, STORED))
    # WHEN a stored entry is retired
    assert main(["verified", "retire", STORED.id, "--reviewer", "U0LEAD"]) == 0
    assert f"retired {STORED.id}" in capsys.readouterr().out
    # THEN the store keeps it, retired by the reviewer
    retired = local_store.get(STORED.id)
    assert retired is not None and not retired.active and retired.retired_by == "U0LEAD"
    # AND an unknown id, or the same one again, is refused with exit code 2
    assert main(["verified", "retire", "no_such_entry"]) == 2
    assert "No verified entry is named `no_such_entry`" in capsys.readouterr().err
    assert main(["verified", "retire", STORED.id]) == 2
    assert "retired already" in capsys.readouterr().err


def test_retire_and_export_use_verified_table_when_it_is_set(
    local_store: YamlVerifiedStore, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN VERIFIED_TABLE (moto) holding a stored entry
    for name, value in LOCAL_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("VERIFIED_TABLE", "databot-verified")
    with mock_aws():
        client = boto3.client("dynamodb")
        client.create_table(
            TableName="databot-verified", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "entry_id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "entry_id", "KeyType": "HASH"}])
        table = DynamoVerifiedStore("databot-verified", client=client)
        table.put(STORED)
        # WHEN it is exported, then retired
        assert main(["verified", "export"]) == 0
        exported = capsys.readouterr().out
        assert main(["verified", "retire", STORED.id, "--reviewer", "U0LEAD"]) == 0
        # THEN the export held it, and the table now has it retired
        assert exported.startswith(f"  - id: {STORED.id}\n")
        retired = table.get(STORED.id)
        assert retired is not None and retired.status == "retired"
    assert not local_store.path.exists()


def test_check_reports_a_stored_entry_that_no_longer_loads_as_broken(
    local_store: YamlVerifiedStore, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a stored entry whose SQL uses a placeholder no parameter binds
    verified = fingerprinted_on(DEFAULT_INPUT, STORED)
    local_store.put(replace(verified, sql=STORED.sql.replace("GROUP BY", "WHERE country = "
                                                             ":country GROUP BY")))
    # WHEN the check runs, THEN it is broken: the engine no longer serves it
    assert main(["verified", "check"]) == 1
    (line,) = [line for line in capsys.readouterr().out.splitlines()
               if line.startswith("broken")]
    assert "signups_per_plan_count" in line and "not served" in line


def test_check_records_every_statement_it_runs_in_the_audit_trail(
    local_store: YamlVerifiedStore, tmp_path: Path
) -> None:
    assert main(["verified", "check"]) == 0
    records = folder_records(tmp_path / "results" / "audit")
    # One run of every library entry (and the data's as-of dates it reads first)
    assert len(records) >= len(load_library().entries)
    assert {(r["platform"], r["outcome"], r["database_user"]) for r in records} == {
        ("cli", "ok", "duckdb")}
    [job_id] = {r["job_id"] for r in records}
    assert job_id.startswith("verified-check-")
