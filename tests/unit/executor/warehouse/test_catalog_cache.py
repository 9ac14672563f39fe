"""The catalog cache both adapters keep: how long an answer lasts and how often a refresh
may re-read it."""

from __future__ import annotations

import math
import threading

from executor.warehouse.base import TableInfo
from executor.warehouse.catalog_cache import CatalogCache


class _Catalog:
    """A catalog that answers with a new table each time it is read."""

    def __init__(self) -> None:
        self.reads = 0

    def read(self) -> list[TableInfo]:
        self.reads += 1
        return [TableInfo(name=f"t{self.reads}", columns=[], row_count=0)]


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_by_default_the_first_read_is_kept_and_refresh_changes_nothing() -> None:
    catalog = _Catalog()
    cache = CatalogCache(catalog.read)
    first = cache.tables()
    assert cache.tables() is first
    assert cache.tables(refresh=True) is first
    assert catalog.reads == 1


def test_an_answer_lasts_its_ttl_and_a_refresh_waits_for_the_minimum_interval() -> None:
    # GIVEN a cache with a 600 s TTL and at most one forced read a minute
    catalog, clock = _Catalog(), _Clock()
    cache = CatalogCache(catalog.read, ttl_s=600, min_refresh_s=60, clock=clock)
    cache.tables()

    # WHEN a refresh comes too soon, the cache answers
    clock.now = 59
    assert [t.name for t in cache.tables(refresh=True)] == ["t1"]
    # WHEN the interval has passed, only a refresh re-reads
    clock.now = 60
    assert [t.name for t in cache.tables()] == ["t1"]
    assert [t.name for t in cache.tables(refresh=True)] == ["t2"]
    # WHEN the TTL has passed, the next call answers at once while a background read
    # replaces the catalog, which the calls after it get
    clock.now = 60 + 600.5
    assert [t.name for t in cache.tables()] == ["t2"]
    cache.wait()
    assert [t.name for t in cache.tables()] == ["t3"]
    assert catalog.reads == 3


def test_an_endless_ttl_never_expires() -> None:
    catalog, clock = _Catalog(), _Clock()
    cache = CatalogCache(catalog.read, ttl_s=math.inf, clock=clock)
    cache.tables()
    clock.now = 1e12
    cache.tables(refresh=True)
    assert catalog.reads == 1


def test_a_refresh_in_the_background_never_holds_up_a_caller() -> None:
    # GIVEN a catalog past its TTL whose next read is slow
    release, started = threading.Event(), threading.Event()
    reads: list[int] = []

    def read() -> list[TableInfo]:
        reads.append(1)
        if len(reads) > 1:
            started.set()
            release.wait(10)
        return [TableInfo(name=f"t{len(reads)}", columns=[], row_count=None)]

    clock = _Clock()
    cache = CatalogCache(read, ttl_s=600, min_refresh_s=60, clock=clock)
    cache.tables()
    clock.now = 601
    # WHEN callers ask while the read is under way THEN each gets the catalog in hand
    assert [t.name for t in cache.tables()] == ["t1"]
    assert started.wait(10)
    assert [t.name for t in cache.tables()] == ["t1"]
    assert len(reads) == 2  # one background read, not one per caller
    release.set()
    cache.wait()
    assert [t.name for t in cache.tables()] == ["t2"]


def test_a_failed_background_read_keeps_the_catalog_and_waits_to_try_again() -> None:
    clock = _Clock()
    reads: list[int] = []

    def read() -> list[TableInfo]:
        reads.append(1)
        if len(reads) == 2:
            raise OSError("warehouse away")
        return [TableInfo(name=f"t{len(reads)}", columns=[], row_count=None)]

    cache = CatalogCache(read, ttl_s=600, min_refresh_s=60, clock=clock)
    cache.tables()
    clock.now = 601
    cache.tables()
    cache.wait()
    # THEN the catalog in hand stays, and no read is tried for a minute
    clock.now = 650
    assert [t.name for t in cache.tables()] == ["t1"]
    assert len(reads) == 2
    clock.now = 662
    cache.tables()
    cache.wait()
    assert [t.name for t in cache.tables()] == ["t3"]

