"""The audit trail: every statement databot runs, or its SQL guard refuses, recorded with
who asked, as whom it ran, what it was and how it ended (executor/governance/audit_record.py).

Each record is logged at once (one structured line, its fields as keys) and buffered for
its store (S3 under AUDIT_BUCKET or RESULTS_BUCKET, else the results folder's audit/). A
background thread writes the buffer every AUDIT_FLUSH_S seconds, or as soon as
AUDIT_BATCH_RECORDS are waiting; a command's end and the process's exit write what is left
(`flush`). Recording never waits on the store, and a store that fails never fails an
answer: the failure is logged as an error, and its records are kept for the next write
(up to a bound, past which the oldest are dropped, loudly).
"""

from __future__ import annotations

import atexit
import json
import threading
import weakref
from collections import defaultdict
from datetime import date
from typing import Any

from bot.observability import service_logger
from executor.config import EngineConfig
from executor.governance.audit_record import AuditRecord
from executor.governance.audit_stores import AuditStore, FolderAuditStore, S3AuditStore

logger = service_logger()

# Records kept for a store that keeps failing, in batches of AUDIT_BATCH_RECORDS.
KEPT_BATCHES = 20


class AuditTrail:
    def __init__(
        self,
        store: AuditStore,
        *,
        flush_s: float = 5.0,
        batch_records: int = 500,
        secrets: tuple[str, ...] = (),
    ) -> None:
        self.store = store
        self.flush_s = flush_s
        self.batch_records = batch_records
        # Values masked in every error message recorded (the warehouse password).
        self.secrets = secrets
        self.failed_writes = 0
        self._buffer: list[AuditRecord] = []
        self._lock = threading.Lock()
        # One write at a time, in order, whichever thread flushes.
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._writer: threading.Thread | None = None
        _open_trails.add(self)

    def record(self, record: AuditRecord) -> None:
        """Log `record` and queue it for the store; never raises, never waits on the store."""
        try:
            fields = record.to_dict()
            logger.info("audit | %s %s (%s)", record.action, record.outcome, record.sql_sha256[:12],
                        extra=fields)
            with self._lock:
                self._buffer.append(record)
                if self._writer is None:
                    self._writer = threading.Thread(target=self._write_in_background,
                                                    name="audit-writer", daemon=True)
                    self._writer.start()
                if len(self._buffer) >= self.batch_records:
                    self._wake.set()
        except Exception:
            logger.exception("job_id=<%s> | could not record a statement in the audit trail",
                             record.job_id)

    def flush(self) -> None:
        """Write every buffered record now, in the calling thread: at a command's end, and
        at the process's exit."""
        with self._write_lock:
            with self._lock:
                records, self._buffer = self._buffer, []
            if records:
                self._write(records)

    def _write_in_background(self) -> None:
        """Flush every flush_s (sooner when a batch fills); end when nothing is left, so an
        idle trail holds no thread (the next record starts one)."""
        while True:
            self._wake.wait(self.flush_s)
            self._wake.clear()
            self.flush()
            with self._lock:
                if not self._buffer:
                    self._writer = None
                    return

    def _write(self, records: list[AuditRecord]) -> None:
        by_day: defaultdict[date, list[AuditRecord]] = defaultdict(list)
        for record in records:
            by_day[date.fromisoformat(record.time[:10])].append(record)
        for day, batch in sorted(by_day.items()):
            data = "".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in batch)
            try:
                self.store.write(day, data.encode("utf-8"))
            except Exception:
                self.failed_writes += 1
                logger.exception("audit | could not write %s audit records of %s; kept for "
                                 "the next write", len(batch), day)
                self._keep(batch)

    def _keep(self, batch: list[AuditRecord]) -> None:
        """Put a batch that failed back in front of the buffer, within the bound."""
        with self._lock:
            self._buffer[:0] = batch
            excess = len(self._buffer) - KEPT_BATCHES * self.batch_records
            if excess > 0:
                del self._buffer[:excess]
                logger.error("audit | the audit store keeps failing: %s audit records "
                             "dropped", excess)


def open_audit_trail(config: EngineConfig, *, s3_client: Any = None) -> AuditTrail:
    """The trail the settings describe: S3 when AUDIT_BUCKET or RESULTS_BUCKET is set,
    else the results folder's audit/."""
    audit = config.audit
    bucket = audit.bucket or config.artifacts.bucket
    store: AuditStore
    if bucket:
        from executor.artifacts.s3 import s3_client as new_s3_client

        store = S3AuditStore(bucket, audit.prefix,
                             client=s3_client or new_s3_client(config.region))
    else:
        store = FolderAuditStore(config.artifacts.results_dir / "audit")
    password = config.warehouse.redshift_password
    return AuditTrail(store, flush_s=audit.flush_s, batch_records=audit.batch_records,
                      secrets=(password,) if password else ())


# Every trail still in use; each writes what it holds when the process exits.
_open_trails: weakref.WeakSet[AuditTrail] = weakref.WeakSet()


@atexit.register
def _flush_open_trails() -> None:
    for trail in list(_open_trails):
        trail.flush()
