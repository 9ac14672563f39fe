"""IDENTITY_MODE=per_user: each question runs as the asker's own database user.

The session maps the asker to a database user (IDENTITY_MAP, executor.governance.identity)
and hands out that user's warehouse from the pool (executor.governance.identity_pool), so
the warehouse's own grants and row-level security apply to every statement of the
request, verified answers included, and the schema the model sees is that user's. An
asker with no mapping is refused before any statement runs. Nothing here sets a session
variable the generated SQL could reset: each identity logs in as its own user.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from bot.observability import service_logger
from executor.errors import UserFacingError
from executor.governance.identity import IdentityMap
from executor.governance.identity_pool import IdentityPool
from executor.warehouse.base import Warehouse

if TYPE_CHECKING:
    from executor.engine import Request

logger = service_logger()

NO_WAREHOUSE_USER = (
    "I can't find a warehouse user for you; ask your data team to add you to IDENTITY_MAP."
)
# How long an asker's mapping (and so their email lookup) is kept; a refusal is not kept.
MAPPING_TTL_S = 300.0


class NoWarehouseUser(UserFacingError):
    """The asker maps to no database user: nothing may run for them."""

    def __init__(self) -> None:
        super().__init__(NO_WAREHOUSE_USER)


def identity_note(db_user: str) -> str:
    return f"results reflect your own warehouse permissions ({db_user})"


class PerUserAccess:
    def __init__(
        self,
        identities: IdentityMap,
        pool: IdentityPool,
        *,
        mapping_ttl_s: float = MAPPING_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.identities = identities
        self.pool = pool
        self._ttl_s = mapping_ttl_s
        self._clock = clock
        self._mapped: dict[tuple[str, str | None, str], tuple[str, float]] = {}
        self._lock = threading.Lock()

    @contextmanager
    def session(self, request: Request) -> Iterator[Warehouse]:
        db_user = self._db_user(request)
        if db_user is None:
            logger.info("job_id=<%s> | refused: the asker maps to no database user",
                        request.job_id)
            raise NoWarehouseUser()
        with self.pool.lease(db_user) as warehouse:
            request.notes.append(identity_note(db_user))
            yield warehouse

    def _db_user(self, request: Request) -> str | None:
        asker = request.asker
        if asker is None:
            return None
        key = (asker.platform, asker.workspace, asker.user)
        now = self._clock()
        with self._lock:
            cached = self._mapped.get(key)
        if cached is not None and now - cached[1] < self._ttl_s:
            return cached[0]
        db_user = self.identities.db_user(asker.user, request.email)
        # A refusal is not kept: the email lookup behind it may have failed in passing.
        if db_user is not None:
            with self._lock:
                self._mapped[key] = (db_user, now)
        return db_user
