"""The library a running engine serves: the static file plus the entries verified from
chat, minus the retired ones, read again at most every `interval_s` seconds.

A reload reads the store and builds a new Matcher, then swaps it in with one assignment:
a question always sees one whole library. The first question after the interval does the
reload while the others go on with the current matcher, so no question waits on another's
reload, and one that fails (the store unreachable) keeps the current library until the
next interval. A stored entry that does not load (a field the library refuses, an id the
file uses) is logged and skipped; it never takes the rest down.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from bot.observability import service_logger
from executor.config import VerifiedConfig
from executor.verified.library import Entry, Library, LibraryError, load_library, parse_entry
from executor.verified.matcher import Matcher
from executor.verified.store import StoredEntry, VerifiedStore, open_verified_store

logger = service_logger()


class LiveLibrary:
    def __init__(
        self,
        static: Library,
        store: VerifiedStore | None = None,
        *,
        interval_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.static = static
        self.store = store
        self._interval_s = interval_s
        self._clock = clock
        self._reloading = threading.Lock()
        self._matcher = Matcher(static)
        self._next_reload = clock()
        self.matcher()

    def matcher(self) -> Matcher:
        """The current matcher, reloaded first when the interval has passed and no other
        question is reloading it."""
        due = self.store is not None and self._clock() >= self._next_reload
        if due and self._reloading.acquire(blocking=False):
            try:
                self._reload()
            finally:
                self._reloading.release()
        return self._matcher

    @property
    def library(self) -> Library:
        return self.matcher().library

    def refresh(self) -> Matcher:
        """Read the store now (after this process stored or retired an entry)."""
        with self._reloading:
            self._reload()
        return self._matcher

    def with_entry(self, entry: Entry) -> Matcher:
        """The current library with `entry` added: what a reviewer's entry would make the
        matcher answer."""
        current = self.matcher().library
        return Matcher(Library((*current.entries, entry), current.vocabulary))

    def _reload(self) -> None:
        self._next_reload = self._clock() + self._interval_s
        assert self.store is not None
        try:
            stored = self.store.entries()
        except Exception:
            logger.exception("cannot read the verified entries; serving the library as it was")
            return
        self._matcher = Matcher(combined(self.static, stored))


def open_live_library(
    config: VerifiedConfig, *, library: Library | None = None, store: VerifiedStore | None = None
) -> LiveLibrary:
    """The configured live library: `library` (default input/verified_queries.yaml) plus the
    entries of `store` (default the configured one)."""
    return LiveLibrary(library or load_library(), store or open_verified_store(config),
                       interval_s=config.reload_interval_s)


def combined(static: Library, stored: list[StoredEntry]) -> Library:
    """The static entries not retired, then the active stored entries that load."""
    retired = {entry.id for entry in stored if not entry.active}
    entries = [entry for entry in static.entries if entry.id not in retired]
    taken = {entry.id for entry in static.entries}
    for record in stored:
        if not record.active:
            continue
        if record.id in taken:
            logger.error("entry=<%s> | a stored entry reuses a library id: skipped", record.id)
            continue
        try:
            entries.append(parse_entry(record.to_library(), static.vocabulary,
                                       f"stored entry {record.id!r}"))
        except (LibraryError, ValueError, TypeError, KeyError) as e:
            logger.error("entry=<%s> | stored entry skipped: %s", record.id, e)
            continue
        taken.add(record.id)
    return Library(tuple(entries), static.vocabulary)
