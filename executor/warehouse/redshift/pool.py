"""A few connections to Redshift for one database user, so questions asked at once do
not queue behind each other on one session.

Each piece of work takes a connection no other thread holds (opening one while fewer than
`size` exist, else waiting for one to come back), runs on it as `RedshiftConnection.run`
does (rolled back; retried once on a fresh session when it only reads and the session
broke), and gives it back. A connection idle for `idle_s` is closed the next time the
pool is used. All connections of a pool log in as the same user.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from executor.warehouse.redshift.connection import RedshiftConnection

DEFAULT_IDLE_S = 300.0


class ConnectionPool:
    def __init__(
        self,
        open_connection: Callable[[], RedshiftConnection],
        *,
        size: int,
        idle_s: float = DEFAULT_IDLE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._open = open_connection
        self.size = size
        self.idle_s = idle_s
        self._clock = clock
        # Free connections, each with when it was last given back.
        self._idle: list[tuple[RedshiftConnection, float]] = []
        self._count = 0
        self._changed = threading.Condition()

    def run(self, work: Callable[[Any], Any], *, retry: bool) -> Any:
        connection = self._take()
        try:
            return connection.run(work, retry=retry)
        finally:
            self._give_back(connection)

    def open(self) -> None:
        """Connect one session now rather than on first use; WarehouseError if the server
        refuses."""
        connection = self._take()
        try:
            connection.open()
        finally:
            self._give_back(connection)

    def _give_back(self, connection: RedshiftConnection) -> None:
        with self._changed:
            self._idle.append((connection, self._clock()))
            self._changed.notify()

    @property
    def open_connections(self) -> int:
        with self._changed:
            return self._count

    def close(self) -> None:
        with self._changed:
            idle, self._idle = self._idle, []
            self._count -= len(idle)
        for connection, _ in idle:
            connection.close()

    def _take(self) -> RedshiftConnection:
        stale: list[RedshiftConnection] = []
        try:
            with self._changed:
                now = self._clock()
                stale = [c for c, since in self._idle if now - since >= self.idle_s]
                self._idle = [(c, since) for c, since in self._idle if now - since < self.idle_s]
                self._count -= len(stale)
                while not self._idle and self._count >= self.size:
                    self._changed.wait()
                if self._idle:
                    # The most recently used: its session is the likeliest to be alive.
                    return self._idle.pop()[0]
                self._count += 1
            return self._open()
        finally:
            for connection in stale:
                connection.close()
