"""The audit trail's sinks: a log line per statement, JSON lines batched to S3 or the
results folder under date=YYYY-MM-DD/, written in the background, when flushed and at exit;
a failing store never fails the caller and loses nothing it can keep."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from executor.config import ArtifactsConfig, AuditConfig, EngineConfig, WarehouseConfig
from executor.governance import audit_trail
from executor.governance.audit_record import AuditRecord, statement_record
from executor.governance.audit_stores import FolderAuditStore, S3AuditStore
from executor.governance.audit_trail import KEPT_BATCHES, AuditTrail, open_audit_trail
from tests.support.audit import MemoryAuditStore, bucket_records, folder_records, memory_trail

BUCKET = "audit-test-bucket"


def _record(n: int = 1, *, when: datetime | None = None) -> AuditRecord:
    return statement_record(
        started=when or datetime(2026, 11, 30, 12, 0, tzinfo=UTC), job_id=f"J{n}",
        asker=None, database_user="duckdb", action="query", sql=f"SELECT {n}", rows=1,
        duration_s=0.001,
    )


@pytest.fixture
def bucket(mocked_s3: Any) -> str:
    mocked_s3.create_bucket(Bucket=BUCKET)
    return BUCKET


def test_each_record_is_one_log_line_with_its_fields_as_keys(
    log_lines: list[dict[str, Any]],
) -> None:
    trail = memory_trail()
    trail.record(_record(7))
    [line] = [line for line in log_lines if line["message"].startswith("audit |")]
    assert line["job_id"] == "J7" and line["sql"] == "SELECT 7"
    assert line["sql_sha256"] == _record(7).sql_sha256 and line["outcome"] == "ok"
    assert line["database_user"] == "duckdb" and line["rows"] == 1


def test_records_go_to_the_folder_as_json_lines_under_their_date(tmp_path: Path) -> None:
    trail = AuditTrail(FolderAuditStore(tmp_path / "audit"), flush_s=3600)
    trail.record(_record(1))
    trail.record(_record(2, when=datetime(2026, 12, 1, 0, 0, 1, tzinfo=UTC)))
    assert folder_records(tmp_path / "audit") == []  # buffered, not written yet
    trail.flush()
    written = sorted(path.relative_to(tmp_path / "audit").parts[0]
                     for path in (tmp_path / "audit").rglob("*.jsonl"))
    assert written == ["date=2026-11-30", "date=2026-12-01"]
    assert [r["job_id"] for r in folder_records(tmp_path / "audit")] == ["J1", "J2"]
    assert not list((tmp_path / "audit").rglob("*.partial"))


def test_records_go_to_s3_under_the_prefix_and_date(mocked_s3: Any, bucket: str) -> None:
    trail = AuditTrail(S3AuditStore(bucket, "audit/", client=mocked_s3), flush_s=3600)
    for n in range(3):
        trail.record(_record(n))
    trail.flush()
    trail.record(_record(9))
    trail.flush()
    objects = bucket_records(mocked_s3, BUCKET)
    # One object per write: S3 objects cannot be appended to.
    assert len(objects) == 2
    for key, records in objects.items():
        assert key.startswith("audit/date=2026-11-30/") and key.endswith(".jsonl")
        assert all(set(r) == set(_record().to_dict()) for r in records)
    assert sorted(r["job_id"] for rs in objects.values() for r in rs) == ["J0", "J1", "J2", "J9"]
    head = mocked_s3.head_object(Bucket=BUCKET, Key=next(iter(objects)))
    assert head["ContentType"] == "application/x-ndjson"


def test_the_background_writer_flushes_every_few_seconds() -> None:
    store = MemoryAuditStore()
    trail = AuditTrail(store, flush_s=0.05)
    trail.record(_record(1))
    _wait_for(lambda: store.records)
    assert [r["job_id"] for r in store.records] == ["J1"]


def test_a_full_batch_is_written_at_once() -> None:
    store = MemoryAuditStore()
    trail = memory_trail(store, batch_records=3)
    for n in range(3):
        trail.record(_record(n))
    _wait_for(lambda: store.records)
    assert len(store.batches) == 1 and len(store.records) == 3


def test_an_idle_trail_holds_no_thread() -> None:
    trail = AuditTrail(MemoryAuditStore(), flush_s=0.02)
    trail.record(_record(1))
    _wait_for(lambda: trail._writer is None)


def test_a_failing_store_never_fails_the_caller_and_its_records_are_kept(
    log_lines: list[dict[str, Any]],
) -> None:
    store = MemoryAuditStore()
    store.failing = True
    trail = memory_trail(store)
    trail.record(_record(1))
    trail.flush()
    assert trail.failed_writes == 1
    assert any(line["level"] == "ERROR" and "could not write 1 audit records" in line["message"]
               for line in log_lines)
    # WHEN the store is back THEN the kept record goes with the next write
    store.failing = False
    trail.record(_record(2))
    trail.flush()
    assert [r["job_id"] for r in store.records] == ["J1", "J2"]


def test_a_store_that_keeps_failing_drops_the_oldest_records_past_a_bound() -> None:
    store = MemoryAuditStore()
    store.failing = True
    trail = memory_trail(store, batch_records=1)
    for n in range(KEPT_BATCHES + 5):
        trail.record(_record(n))
        trail.flush()
    store.failing = False
    trail.flush()
    assert [r["job_id"] for r in store.records] == [f"J{n}" for n in range(5, KEPT_BATCHES + 5)]


def test_what_is_left_is_written_when_the_process_exits() -> None:
    store = MemoryAuditStore()
    trail = memory_trail(store)
    trail.record(_record(1))
    audit_trail._flush_open_trails()
    assert [r["job_id"] for r in store.records] == ["J1"]


def test_the_settings_choose_the_store(tmp_path: Path, mocked_s3: Any) -> None:
    local = EngineConfig(artifacts=ArtifactsConfig(results_dir=tmp_path / "results"))
    store = open_audit_trail(local).store
    assert isinstance(store, FolderAuditStore)
    assert store.folder == tmp_path / "results" / "audit"
    results_bucket = replace(local, artifacts=ArtifactsConfig(bucket="results-bucket"))
    store = open_audit_trail(results_bucket, s3_client=mocked_s3).store
    assert isinstance(store, S3AuditStore)
    assert (store.bucket, store.prefix) == ("results-bucket", "audit/")
    apart = replace(results_bucket, audit=AuditConfig(bucket="audit-bucket", prefix="trail/"))
    store = open_audit_trail(apart, s3_client=mocked_s3).store
    assert isinstance(store, S3AuditStore)
    assert (store.bucket, store.prefix) == ("audit-bucket", "trail/")


def test_the_warehouse_password_is_masked_in_every_message(tmp_path: Path) -> None:
    config = EngineConfig(
        warehouse=WarehouseConfig(url="redshift://analyst@cluster:5439/dev",
                                  redshift_password="pa55-w0rd"),
        artifacts=ArtifactsConfig(results_dir=tmp_path),
    )
    trail = open_audit_trail(config)
    assert trail.secrets == ("pa55-w0rd",)
    record = statement_record(
        started=datetime.now(UTC), job_id="J1", asker=None, database_user="analyst",
        action="query", sql="SELECT 1", rows=None, duration_s=0.0,
        error=ConnectionError("login as analyst with pa55-w0rd refused"), secrets=trail.secrets,
    )
    trail.record(record)
    trail.flush()
    written = (tmp_path / "audit").rglob("*.jsonl")
    text = "".join(path.read_text() for path in written)
    assert "pa55-w0rd" not in text and json.loads(text)["error_class"] == "ConnectionError"


def _wait_for(condition: Any, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
