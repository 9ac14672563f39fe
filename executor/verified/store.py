"""Verified entries added from chat: where they are kept, beside the static library.

A reviewer verifies an agent answer in its thread, and the worker stores the entry here:
in VERIFIED_TABLE (DynamoDB, partition key `entry_id`) when it is set, else in a YAML
file in the results folder. Each `StoredEntry` is a library entry in the format of
input/verified_queries.yaml (`to_library`) plus what the chat adds: the job whose answer
was verified, the result's fingerprint, and whether it was retired, by whom and when.

Guarantees: `put` never overwrites an id already taken (a conditional put; two reviewers
verifying under one name: the second is refused), and retiring keeps the entry, marked,
so its id stays taken and the daily check can say what was retired. Retiring an entry of
the static library records a retirement under its id, which the matcher honours until
the file is edited.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

import boto3
import yaml

from executor.config import VerifiedConfig
from executor.verified.fingerprint import Fingerprint

ACTIVE = "active"
RETIRED = "retired"
ENTRY_FILE = "verified_entries.yaml"


class EntryExists(Exception):
    """An entry with this id is stored already (active or retired)."""


@dataclass(frozen=True)
class StoredEntry:
    """A stored entry. Library fields (`to_library`) are empty in the retirement record of
    a static entry, which holds only its id and who retired it."""

    id: str
    question: str = ""
    paraphrases: tuple[str, ...] = ()
    # The library's `intent` declaration, derived from the question as the library reads it.
    intent: dict[str, Any] | None = None
    # The library's `params` mapping: name → {type, values, default, slot, label}.
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    sql: str = ""
    answer: str | None = None
    # The one-line definition the reviewer gave.
    explanation: str = ""
    verified_by: str = ""
    verified_at: str = ""
    source_job_id: str = ""
    fingerprint: Fingerprint | None = None
    status: str = ACTIVE
    retired_by: str | None = None
    retired_at: str | None = None

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    def retired(self, reviewer: str, at: datetime) -> StoredEntry:
        return replace(self, status=RETIRED, retired_by=reviewer,
                       retired_at=at.strftime("%Y-%m-%dT%H:%M:%SZ"))

    def to_library(self) -> dict[str, Any]:
        """The entry as input/verified_queries.yaml writes one (parse_entry reads it)."""
        data: dict[str, Any] = {"id": self.id}
        if self.intent is not None:
            data["intent"] = self.intent
        data |= {"question": self.question, "paraphrases": list(self.paraphrases)}
        if self.params:
            data["params"] = self.params
        data["sql"] = self.sql
        if self.answer:
            data["answer"] = self.answer
        data |= {
            "explanation": self.explanation,
            "verified_by": self.verified_by,
            "verified_at": date.fromisoformat(self.verified_at) if self.verified_at else None,
        }
        return data

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "question": self.question, "paraphrases": list(self.paraphrases),
            "intent": self.intent, "params": self.params, "sql": self.sql,
            "answer": self.answer, "explanation": self.explanation,
            "verified_by": self.verified_by, "verified_at": self.verified_at,
            "source_job_id": self.source_job_id,
            "fingerprint": self.fingerprint.to_dict() if self.fingerprint else None,
            "status": self.status, "retired_by": self.retired_by,
            "retired_at": self.retired_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StoredEntry:
        fingerprint = data.get("fingerprint")
        return cls(
            id=str(data["id"]),
            question=str(data.get("question") or ""),
            paraphrases=tuple(str(p) for p in data.get("paraphrases") or ()),
            intent=data.get("intent"),
            params=dict(data.get("params") or {}),
            sql=str(data.get("sql") or ""),
            answer=data.get("answer"),
            explanation=str(data.get("explanation") or ""),
            verified_by=str(data.get("verified_by") or ""),
            verified_at=str(data.get("verified_at") or ""),
            source_job_id=str(data.get("source_job_id") or ""),
            fingerprint=Fingerprint.from_dict(fingerprint) if fingerprint else None,
            status=str(data.get("status") or ACTIVE),
            retired_by=data.get("retired_by"),
            retired_at=data.get("retired_at"),
        )


class VerifiedStore(Protocol):
    def entries(self) -> list[StoredEntry]:
        """Every stored entry and retirement record."""
        ...

    def get(self, entry_id: str) -> StoredEntry | None: ...

    def put(self, entry: StoredEntry) -> None:
        """Store a new entry; raises EntryExists when its id is taken."""
        ...

    def retire(self, entry_id: str, reviewer: str) -> StoredEntry:
        """Mark the entry retired by `reviewer`; an id not stored (a static entry's) gets a
        retirement record."""
        ...


def open_verified_store(config: VerifiedConfig, *, client: Any = None) -> VerifiedStore:
    """VERIFIED_TABLE when it is set, else the YAML file in the results folder."""
    if config.table:
        return DynamoVerifiedStore(config.table, client=client, region=config.region)
    return YamlVerifiedStore(config.path)


def _now() -> datetime:
    return datetime.now(UTC)


class DynamoVerifiedStore:
    """One item per entry: `entry_id`, `status`, and the entry as JSON in `entry`."""

    def __init__(self, table: str, *, client: Any = None, region: str | None = None) -> None:
        self.table = table
        self._client = client or boto3.client("dynamodb", region_name=region)

    def entries(self) -> list[StoredEntry]:
        found: list[StoredEntry] = []
        for page in self._client.get_paginator("scan").paginate(TableName=self.table):
            found += [_from_item(item) for item in page.get("Items", [])]
        return found

    def get(self, entry_id: str) -> StoredEntry | None:
        item = self._client.get_item(TableName=self.table, Key={"entry_id": {"S": entry_id}},
                                     ConsistentRead=True).get("Item")
        return _from_item(item) if item else None

    def put(self, entry: StoredEntry) -> None:
        try:
            self._client.put_item(TableName=self.table, Item=_item(entry),
                                  ConditionExpression="attribute_not_exists(entry_id)")
        except self._client.exceptions.ConditionalCheckFailedException as e:
            raise EntryExists(entry.id) from e

    def retire(self, entry_id: str, reviewer: str) -> StoredEntry:
        retired = (self.get(entry_id) or StoredEntry(entry_id)).retired(reviewer, _now())
        self._client.put_item(TableName=self.table, Item=_item(retired))
        return retired


def _item(entry: StoredEntry) -> dict[str, Any]:
    return {"entry_id": {"S": entry.id}, "status": {"S": entry.status},
            "entry": {"S": json.dumps(entry.to_dict(), separators=(",", ":"))}}


def _from_item(item: dict[str, Any]) -> StoredEntry:
    return StoredEntry.from_dict(json.loads(item["entry"]["S"]))


class YamlVerifiedStore:
    """A YAML file `{entries: [...]}`, replaced whole on each write (a temporary file
    renamed over it), so a reader never sees half of one. For one process: `databot ask`,
    `databot dev` and a local worker."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def entries(self) -> list[StoredEntry]:
        try:
            data = yaml.safe_load(self.path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            return []
        return [StoredEntry.from_dict(raw) for raw in data.get("entries") or []]

    def get(self, entry_id: str) -> StoredEntry | None:
        return next((entry for entry in self.entries() if entry.id == entry_id), None)

    def put(self, entry: StoredEntry) -> None:
        with self._lock:
            entries = self.entries()
            if any(stored.id == entry.id for stored in entries):
                raise EntryExists(entry.id)
            self._write([*entries, entry])

    def retire(self, entry_id: str, reviewer: str) -> StoredEntry:
        with self._lock:
            entries = self.entries()
            stored = next((e for e in entries if e.id == entry_id), StoredEntry(entry_id))
            retired = stored.retired(reviewer, _now())
            self._write([e for e in entries if e.id != entry_id] + [retired])
            return retired

    def _write(self, entries: list[StoredEntry]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = yaml.safe_dump({"entries": [e.to_dict() for e in entries]}, sort_keys=False,
                              allow_unicode=True)
        fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
