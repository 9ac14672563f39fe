"""A recording stand-in for a redshift-connector connection (and its cursor)."""

from __future__ import annotations

from typing import Any


class FakeConnection:
    """A connection that is its own cursor, with an empty result for every statement; the
    statements, commits, rollbacks and closes go to `log` in order."""

    description: Any = None

    def __init__(self, log: list[str]) -> None:
        self.log = log

    def cursor(self) -> FakeConnection:
        return self

    def execute(self, sql: str, params: Any = None) -> None:
        self.log.append(sql)

    def fetchall(self) -> list[Any]:
        return []

    def commit(self) -> None:
        self.log.append("COMMIT")

    def rollback(self) -> None:
        self.log.append("ROLLBACK")

    def close(self) -> None:
        self.log.append("CLOSE")
