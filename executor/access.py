"""Which warehouse a request's statements run on.

With IDENTITY_MODE=service every request shares the worker's one warehouse (one database
user for everyone). Other implementations hand each request a warehouse bound to the
asker's own database identity, or wrap it (the audit trail); the engine opens one session
per request and every statement of that request goes through it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Protocol

from executor.warehouse.base import Warehouse

if TYPE_CHECKING:
    from executor.engine import Request


class WarehouseAccess(Protocol):
    def session(self, request: Request) -> AbstractContextManager[Warehouse]:
        """The warehouse `request` runs on, for the length of the `with` block."""
        ...


class SharedAccess:
    """Every request on the same warehouse, as the worker's one database user."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse

    @contextmanager
    def session(self, request: Request) -> Iterator[Warehouse]:
        yield self.warehouse
