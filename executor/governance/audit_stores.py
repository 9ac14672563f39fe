"""Where batches of audit records go: S3 objects or files in a local folder, one per batch
and day, as JSON lines under `date=YYYY-MM-DD/` (Hive-style, so Athena partitions on it).

S3 objects cannot be appended to, so every batch is a new object, named so that no two
writers (tasks, processes, trails in one process) ever pick the same name:
`<writer>-<UTC time>-<sequence>.jsonl`.
"""

from __future__ import annotations

import itertools
import os
import socket
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

CONTENT_TYPE = "application/x-ndjson"


class AuditStore(Protocol):
    def write(self, day: date, data: bytes) -> str:
        """Store one batch of JSON lines of `day`; return where it went."""
        ...


class BatchNames:
    """`<host>-<pid>-<random>-<UTC time>-<sequence>.jsonl`: unique per writer and batch."""

    def __init__(self) -> None:
        host = socket.gethostname().split(".", 1)[0] or "host"
        self.writer = f"{host}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._sequence = itertools.count(1)

    def next(self) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        return f"{self.writer}-{stamp}-{next(self._sequence):06d}.jsonl"


def partition(day: date) -> str:
    return f"date={day.isoformat()}"


class S3AuditStore:
    """s3://bucket/<prefix>date=YYYY-MM-DD/<batch>.jsonl"""

    def __init__(self, bucket: str, prefix: str, *, client: Any) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.client = client
        self._names = BatchNames()

    def write(self, day: date, data: bytes) -> str:
        key = f"{self.prefix}{partition(day)}/{self._names.next()}"
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=CONTENT_TYPE)
        return f"s3://{self.bucket}/{key}"


class FolderAuditStore:
    """<folder>/date=YYYY-MM-DD/<batch>.jsonl"""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._names = BatchNames()

    def write(self, day: date, data: bytes) -> str:
        target = self.folder / partition(day) / self._names.next()
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: a reader never sees half a batch.
        partial = target.with_suffix(".partial")
        partial.write_bytes(data)
        partial.replace(target)
        return str(target)
