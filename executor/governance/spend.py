"""The spend ledger: what each person and each channel spent, per day and per month.

One counter per scope, keyed `user#<workspace>#<user>#<period>` or
`channel#<workspace>#<channel>#<period>`, the period a month (`2026-11`) or a day
(`2026-11-30`). Counters only grow by atomic additions, so concurrent answers on any
number of workers never lose an update: in USAGE_TABLE (DynamoDB, partition key `scope`,
`ADD` updates; daily items expire `DAY_RETENTION_S` after their day) or, without a table
(local runs, the CLI), in a SQLite file in the results folder.

Limits are checked against `committed_usd`, the money spent plus what model calls in
flight have reserved (executor/governance/budgets.py); `cost_usd` is what was spent.
`reserve` is the one conditional step: it adds to `committed_usd` only while that is
still below the limit, in the same atomic update.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import boto3

from bot.answer import Usage

USER = "user"
CHANNEL = "channel"
# Daily counters are kept this long after their day ends (`databot usage --by day` reads
# them); monthly ones are kept.
DAY_RETENTION_S = 100 * 86400


@dataclass(frozen=True)
class Scope:
    """One counter: whose (`kind` user or channel, `owner` as `<workspace>#<id>`) and
    which period (a month `2026-11` or a day `2026-11-30`)."""

    kind: str
    owner: str
    period: str

    @property
    def key(self) -> str:
        return f"{self.kind}#{self.owner}#{self.period}"

    @property
    def daily(self) -> bool:
        return len(self.period) == len("2026-11-30")

    @property
    def month(self) -> str:
        return self.period[:7]

    @property
    def expires_at(self) -> int | None:
        """When a daily counter may go (epoch seconds); None for a monthly one."""
        if not self.daily:
            return None
        day = datetime.strptime(self.period, "%Y-%m-%d").replace(tzinfo=UTC)
        return int((day + timedelta(days=1)).timestamp()) + DAY_RETENTION_S

    @classmethod
    def parse(cls, key: str) -> Scope:
        kind, _, rest = key.partition("#")
        owner, _, period = rest.rpartition("#")
        return cls(kind, owner, period)


@dataclass
class Counts:
    """What a scope's counter holds; every field is only ever added to."""

    cost_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    # Model calls, answers given, and of those the ones answered from a verified query.
    calls: int = 0
    answers: int = 0
    verified_answers: int = 0
    # Spent plus what calls in flight reserved: what limits are checked against.
    committed_usd: float = 0.0

    @classmethod
    def of_call(cls, usage: Usage, *, reserved: float) -> Counts:
        """One settled model call: its usage, and its reservation replaced by its cost."""
        return cls(
            cost_usd=usage.cost_usd,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_read_tokens=usage.cache_read_tokens,
            cache_write_tokens=usage.cache_write_tokens,
            calls=1,
            committed_usd=usage.cost_usd - reserved,
        )

    def __add__(self, other: Counts) -> Counts:
        return Counts(**{name: getattr(self, name) + getattr(other, name) for name in COUNTERS})

    @property
    def verified_rate(self) -> float | None:
        return self.verified_answers / self.answers if self.answers else None

    def nonzero(self) -> dict[str, float]:
        return {name: value for name in COUNTERS if (value := getattr(self, name))}


COUNTERS = tuple(f.name for f in fields(Counts))
MONEY = ("cost_usd", "committed_usd")


class Ledger(Protocol):
    def add(self, scope: Scope, counts: Counts) -> None:
        """Add `counts` to the scope's counter, creating it at zero."""
        ...

    def reserve(self, scope: Scope, amount: float, limit: float) -> bool:
        """Add `amount` to the scope's `committed_usd` if it is below `limit`, atomically;
        whether it was added."""
        ...

    def read(self, scopes: Sequence[Scope]) -> list[Counts]:
        """Each scope's counts (zero where nothing was counted), in order."""
        ...

    def month(self, month: str) -> list[tuple[Scope, Counts]]:
        """Every counter of the month `2026-11`: its monthly and its daily ones."""
        ...


class DynamoLedger:
    """USAGE_TABLE: one item per scope, each counter an attribute updated with `ADD`."""

    def __init__(self, table: str, *, client: Any = None, region: str | None = None) -> None:
        self.table = table
        self._client = client or boto3.client("dynamodb", region_name=region)

    def add(self, scope: Scope, counts: Counts) -> None:
        values = counts.nonzero()
        if values:
            self._update(scope, values)

    def reserve(self, scope: Scope, amount: float, limit: float) -> bool:
        if limit <= 0:  # a missing item passes the condition below
            return False
        try:
            self._update(
                scope, {"committed_usd": amount},
                condition="attribute_not_exists(committed_usd) OR committed_usd < :limit",
                condition_values={":limit": _number(limit)},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def read(self, scopes: Sequence[Scope]) -> list[Counts]:
        keys = list(dict.fromkeys(scope.key for scope in scopes))
        found: dict[str, Counts] = {}
        request: dict[str, Any] = {self.table: {
            "Keys": [{"scope": {"S": key}} for key in keys], "ConsistentRead": True}}
        while request:
            response = self._client.batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(self.table, []):
                found[item["scope"]["S"]] = _counts(item)
            request = response.get("UnprocessedKeys") or {}
        return [found.get(scope.key, Counts()) for scope in scopes]

    def month(self, month: str) -> list[tuple[Scope, Counts]]:
        """A Scan: for `databot usage`, run with operator credentials, not the worker's."""
        rows: list[tuple[Scope, Counts]] = []
        pages = self._client.get_paginator("scan").paginate(
            TableName=self.table, FilterExpression="contains(#scope, :month)",
            ExpressionAttributeNames={"#scope": "scope"},
            ExpressionAttributeValues={":month": {"S": f"#{month}"}},
        )
        for page in pages:
            for item in page.get("Items", []):
                scope = Scope.parse(item["scope"]["S"])
                if scope.month == month:
                    rows.append((scope, _counts(item)))
        return rows

    def _update(self, scope: Scope, values: dict[str, float], *, condition: str | None = None,
                condition_values: dict[str, Any] | None = None) -> None:
        names = {f"#{name}": name for name in values}
        attributes = {f":{name}": _number(value) for name, value in values.items()}
        expression = "ADD " + ", ".join(f"#{name} :{name}" for name in values)
        expires = scope.expires_at
        if expires is not None:
            expression = "SET expires_at = :expires " + expression
            attributes[":expires"] = _number(expires)
        extra = {"ConditionExpression": condition} if condition else {}
        self._client.update_item(
            TableName=self.table, Key={"scope": {"S": scope.key}},
            UpdateExpression=expression, ExpressionAttributeNames=names,
            ExpressionAttributeValues=attributes | (condition_values or {}), **extra,
        )


def _number(value: float) -> dict[str, str]:
    if isinstance(value, int):
        return {"N": str(value)}
    # Fixed-point to the nano-dollar: no binary float noise, no exponent.
    text = format(Decimal(repr(value)).quantize(Decimal("1e-9")), "f")
    return {"N": text.rstrip("0").rstrip(".") or "0"}


def _counts(item: dict[str, Any]) -> Counts:
    values: dict[str, Any] = {}
    for name in COUNTERS:
        if name in item:
            number = Decimal(item[name]["N"])
            values[name] = float(number) if name in MONEY else int(number)
    return Counts(**values)


class SqliteLedger:
    """A SQLite file, for runs without USAGE_TABLE: each change is one statement in its own
    transaction, so threads and processes (a local worker, `databot ask`) share it safely."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._ready = threading.Lock()
        self._created = False

    def add(self, scope: Scope, counts: Counts) -> None:
        values = counts.nonzero()
        if not values:
            return
        columns = ", ".join(values)
        updates = ", ".join(f"{name} = {name} + excluded.{name}" for name in values)
        with self._connect() as db:
            db.execute(
                f"INSERT INTO usage (scope, {columns}) VALUES (?{', ?' * len(values)}) "
                f"ON CONFLICT (scope) DO UPDATE SET {updates}",
                (scope.key, *values.values()),
            )

    def reserve(self, scope: Scope, amount: float, limit: float) -> bool:
        with self._connect() as db:
            db.execute("INSERT OR IGNORE INTO usage (scope) VALUES (?)", (scope.key,))
            changed = db.execute(
                "UPDATE usage SET committed_usd = committed_usd + ? "
                "WHERE scope = ? AND committed_usd < ?", (amount, scope.key, limit),
            ).rowcount
        return changed == 1

    def read(self, scopes: Sequence[Scope]) -> list[Counts]:
        with self._connect() as db:
            return [self._row(db, "WHERE scope = ?", (scope.key,)).get(scope.key, Counts())
                    for scope in scopes]

    def month(self, month: str) -> list[tuple[Scope, Counts]]:
        with self._connect() as db:
            rows = self._row(db, "WHERE scope LIKE ?", (f"%#{month}%",))
        return [(scope, counts) for key, counts in rows.items()
                if (scope := Scope.parse(key)).month == month]

    @staticmethod
    def _row(db: sqlite3.Connection, where: str, params: Iterable[Any]) -> dict[str, Counts]:
        cursor = db.execute(f"SELECT scope, {', '.join(COUNTERS)} FROM usage {where}",
                            tuple(params))
        return {row[0]: Counts(*row[1:]) for row in cursor}

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection of its own (connections are not shared between threads), in one
        transaction that commits when the block ends."""
        with self._ready:
            if not self._created:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with closing(sqlite3.connect(self.path, timeout=30)) as db, db:
                    db.execute(f"CREATE TABLE IF NOT EXISTS usage (scope TEXT PRIMARY KEY, "
                               f"{', '.join(map(_column, COUNTERS))})")
                self._created = True
        with closing(sqlite3.connect(self.path, timeout=30)) as db, db:
            yield db


def _column(name: str) -> str:
    return f"{name} {'REAL' if name in MONEY else 'INTEGER'} NOT NULL DEFAULT 0"
