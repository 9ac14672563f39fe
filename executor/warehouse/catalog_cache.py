"""The described tables an adapter keeps between reads of its catalog.

Reading a catalog runs a query per table and per text column, so every adapter keeps the
result: DuckDB for as long as it is open (its data cannot change), Redshift for a while
(tables come and go on the server). A refresh, asked for when a query names a table the
cache lacks, re-reads sooner, but never more often than the adapter allows, so misspelt
names cannot keep the catalog queries running.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from executor.warehouse.base import TableInfo


class CatalogCache:
    def __init__(
        self,
        read: Callable[[], list[TableInfo]],
        *,
        ttl_s: float = math.inf,
        min_refresh_s: float = math.inf,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`read` describes the tables; its answer is kept for `ttl_s`, and a refresh
        re-reads one that is at least `min_refresh_s` old (never, by default)."""
        self._read = read
        self.ttl_s = ttl_s
        self.min_refresh_s = min_refresh_s
        self._clock = clock
        self._cached: tuple[float, list[TableInfo]] | None = None
        # Held while reading, so that concurrent callers wait for one read.
        self._lock = threading.Lock()

    def tables(self, refresh: bool = False) -> list[TableInfo]:
        with self._lock:
            if self._cached is not None:
                read_at, tables = self._cached
                age = self._clock() - read_at
                if age <= self.ttl_s and not (refresh and age >= self.min_refresh_s):
                    return tables
            tables = self._read()
            self._cached = (self._clock(), tables)
            return tables
