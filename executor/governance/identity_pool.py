"""The warehouses of the people asking, one per database user, each with its own sessions.

A person's questions run on their own warehouse: its connections are logged in as their
database user and its catalog is what that user can see, cached for them alone. One
user's warehouse is never handed to another. At most `max_identities` stay open: an
identity idle for `idle_s` is closed (its connections with it), and when the pool is full
the one idle longest makes room; a request waits only when every identity is in use.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bot.observability import service_logger
from executor.warehouse.base import Warehouse

logger = service_logger()


@dataclass
class _Entry:
    # None while it is being opened.
    warehouse: Warehouse | None
    in_use: int = 0
    last_used: float = 0.0


class IdentityPool:
    def __init__(
        self,
        open_warehouse: Callable[[str], Warehouse],
        *,
        max_identities: int,
        idle_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._open = open_warehouse
        self.max_identities = max_identities
        self.idle_s = idle_s
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._changed = threading.Condition()

    @contextmanager
    def lease(self, db_user: str) -> Iterator[Warehouse]:
        """The warehouse of `db_user`, kept open while the block runs."""
        entry = self._acquire(db_user)
        assert entry.warehouse is not None, "an acquired entry is open"
        try:
            yield entry.warehouse
        finally:
            with self._changed:
                entry.in_use -= 1
                entry.last_used = self._clock()
                self._changed.notify_all()

    def open_identities(self) -> list[str]:
        with self._changed:
            return list(self._entries)

    def close(self) -> None:
        with self._changed:
            entries, self._entries = list(self._entries.values()), {}
        for warehouse in (w for entry in entries for w in _opened(entry)):
            warehouse.close()

    def _acquire(self, db_user: str) -> _Entry:
        """The user's entry, in use; a new one is opened off the lock (logging in may call
        IAM), while other users' questions go on."""
        closing: list[Warehouse] = []
        try:
            with self._changed:
                closing += self._sweep()
                while True:
                    entry = self._entries.get(db_user)
                    if entry is not None and entry.warehouse is not None:
                        entry.in_use += 1
                        return entry
                    if entry is None and len(self._entries) < self.max_identities:
                        break
                    idlest = None if entry is not None else self._idlest()
                    if idlest is not None:
                        closing += _opened(self._entries.pop(idlest))
                    else:
                        # Full of people in the middle of a question, or this user's
                        # warehouse being opened by another thread.
                        self._changed.wait()
                # A placeholder holds the user's place while their warehouse opens.
                entry = self._entries[db_user] = _Entry(None, in_use=1)
        finally:
            for warehouse in closing:
                warehouse.close()
        try:
            opened = self._open(db_user)
        except BaseException:
            with self._changed:
                del self._entries[db_user]
                self._changed.notify_all()
            raise
        with self._changed:
            entry.warehouse = opened
            self._changed.notify_all()
        logger.info("opened the warehouse of the database user %s", db_user)
        return entry

    def _sweep(self) -> list[Warehouse]:
        """Take out the identities idle for `idle_s` (closed by the caller, off the lock)."""
        now = self._clock()
        stale = [user for user, entry in self._entries.items()
                 if entry.in_use == 0 and now - entry.last_used >= self.idle_s]
        return [w for user in stale for w in _opened(self._entries.pop(user))]

    def _idlest(self) -> str | None:
        idle = [(entry.last_used, user) for user, entry in self._entries.items()
                if entry.in_use == 0]
        return min(idle)[1] if idle else None


def _opened(entry: _Entry) -> list[Warehouse]:
    """The entry's warehouse, if it is open yet."""
    return [] if entry.warehouse is None else [entry.warehouse]
