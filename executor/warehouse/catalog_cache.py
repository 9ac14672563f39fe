"""The described tables an adapter keeps between reads of its catalog.

DuckDB keeps them for as long as it is open (its data cannot change); Redshift for a while
(tables come and go on the server). A catalog that has aged past its TTL keeps answering
while one background read replaces it, swapped in whole, so no question waits for a
refresh. Only the first read, and a refresh asked for because a query names a table the
cache lacks, are waited for; such a refresh re-reads at most once per `min_refresh_s`, so
misspelt names cannot keep the catalog queries running.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from bot.observability import service_logger
from executor.warehouse.base import TableInfo

logger = service_logger()


class CatalogCache:
    def __init__(
        self,
        read: Callable[[], list[TableInfo]],
        *,
        ttl_s: float = math.inf,
        min_refresh_s: float = math.inf,
        clock: Callable[[], float] = time.monotonic,
        on_read: Callable[[], None] = lambda: None,
    ) -> None:
        """`read` describes the tables; its answer is kept for `ttl_s`, and a refresh
        re-reads one that is at least `min_refresh_s` old (never, by default). `on_read` is
        called after each new read is swapped in (what is kept per table goes stale)."""
        self._read = read
        self.ttl_s = ttl_s
        self.min_refresh_s = min_refresh_s
        self._clock = clock
        self._on_read = on_read
        self._cached: tuple[float, list[TableInfo]] | None = None
        # One read at a time; callers holding a catalog never wait for it.
        self._reading = threading.Lock()
        self._background: threading.Thread | None = None

    def tables(self, refresh: bool = False) -> list[TableInfo]:
        cached = self._cached
        if cached is None:
            return self._read_now(lambda: self._cached is None)
        read_at, tables = cached
        age = self._clock() - read_at
        if refresh and age >= self.min_refresh_s:
            return self._read_now(lambda: self._cached is cached)
        if age > self.ttl_s:
            self._refresh_in_background()
        return tables

    def wait(self) -> None:
        """Wait for a background read in flight (tests, shutdown)."""
        background = self._background
        if background is not None:
            background.join()

    def _read_now(self, still_needed: Callable[[], bool]) -> list[TableInfo]:
        with self._reading:
            # Another caller's read may have answered while this one waited.
            if still_needed():
                self._swap(self._read())
            assert self._cached is not None
            return self._cached[1]

    def _swap(self, tables: list[TableInfo]) -> None:
        self._cached = (self._clock(), tables)
        self._on_read()

    def _refresh_in_background(self) -> None:
        if not self._reading.acquire(blocking=False):
            return  # a read is already under way
        self._background = threading.Thread(target=self._background_read,
                                             name="catalog-refresh", daemon=True)
        self._background.start()

    def _background_read(self) -> None:
        try:
            self._swap(self._read())
        except Exception:
            # The catalog in hand stays, and is tried again no sooner than a forced refresh.
            logger.exception("catalog refresh failed; keeping the catalog read before")
            cached = self._cached
            if cached is not None:
                retry_in = min(self.min_refresh_s, self.ttl_s)
                self._cached = (self._clock() - self.ttl_s + retry_in, cached[1])
        finally:
            self._reading.release()
