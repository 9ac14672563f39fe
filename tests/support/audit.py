"""Audit trail helpers: an in-memory store that can be made to fail, a trail on it that
writes only when told, and the records a folder or a bucket holds."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from executor.governance.audit_trail import AuditTrail


class MemoryAuditStore:
    """Keeps each batch written, by day; `failing` makes every write raise."""

    def __init__(self) -> None:
        self.batches: list[tuple[date, bytes]] = []
        self.failing = False

    def write(self, day: date, data: bytes) -> str:
        if self.failing:
            raise OSError("the audit store is down")
        self.batches.append((day, data))
        return f"memory/{day}/{len(self.batches)}"

    @property
    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for _, data in self.batches for line in data.splitlines()]


def memory_trail(store: MemoryAuditStore | None = None, **options: Any) -> AuditTrail:
    """A trail on `store` whose background writer waits an hour: tests flush it."""
    return AuditTrail(store or MemoryAuditStore(), **{"flush_s": 3600.0, **options})


def folder_records(folder: Path) -> list[dict[str, Any]]:
    """Every record written under `folder` (RESULTS_DIR/audit), in the order they started."""
    records = [json.loads(line) for path in sorted(folder.glob("date=*/*.jsonl"))
               for line in path.read_text(encoding="utf-8").splitlines()]
    return sorted(records, key=lambda record: str(record["time"]))


def bucket_records(client: Any, bucket: str, prefix: str = "audit/") -> dict[str, list[dict]]:
    """Object key → the records it holds, for every object under `prefix`."""
    listed = client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return {item["Key"]: [json.loads(line) for line in client.get_object(
        Bucket=bucket, Key=item["Key"])["Body"].read().decode().splitlines()]
        for item in listed}
