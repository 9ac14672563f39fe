"""One connection to Redshift, shared by the worker's threads, that outlives breakage.

The connection is reused across queries behind a lock (queries from the worker's threads
run one at a time on it), with `statement_timeout` set for the session. Every piece of
work runs in a transaction that is rolled back afterwards, so nothing is ever committed.
A connection that breaks (a terminated backend, a server or PgBouncer restart, a network
reset or a silent network) is dropped and re-opened with the session settings; work that
only reads (what the SQL guard admits) is then retried once, anything else fails. A
statement timeout is the server's answer on a live session, never retried.
"""

from __future__ import annotations

import errno
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import redshift_connector

from bot.observability import service_logger
from executor.errors import WarehouseError
from executor.warehouse.redshift.target import Password, RedshiftTarget, connect_args

logger = service_logger()

# The driver's socket timeout covers every read, so it must outlast the statement timeout
# (which the server enforces with a clear error); it only catches a silent network.
SOCKET_TIMEOUT_MARGIN_S = 30

# SQLSTATEs meaning the session is gone: connection exceptions (PgBouncer reports its own
# losses as 08P01), administrator or crash shutdown, a server not yet accepting sessions.
_DISCONNECT_STATES = ("08", "57P01", "57P02", "57P03")
# The driver wraps some socket failures (InterfaceError "BrokenPipe: server socket closed",
# "connection is closed"; OperationalError "connection time out") but lets the socket
# file's own errors through raw: a reset, a write to a closed socket, a read past the
# socket timeout, a TLS stream cut short, and a short read that fails to unpack a header.
_TRANSPORT_ERRORS = (ConnectionError, TimeoutError, ssl.SSLError, struct.error)
_NETWORK_ERRNOS = frozenset(
    {errno.ENETDOWN, errno.ENETUNREACH, errno.ENETRESET, errno.EHOSTDOWN, errno.EHOSTUNREACH,
     errno.ENOTCONN, errno.ETIMEDOUT}
)  # fmt: skip


class RedshiftConnection:
    """The session queries run on: opened on first use, re-opened after it breaks."""

    def __init__(
        self,
        target: RedshiftTarget,
        *,
        password: Password,
        statement_timeout_s: float,
        connect: Callable[..., Any] = redshift_connector.connect,
    ) -> None:
        self.target = target
        self.statement_timeout_s = statement_timeout_s
        self._password = password
        self._connect = connect
        self._conn: Any = None
        self._lock = threading.RLock()

    def _connection(self) -> Any:
        if self._conn is None:
            started = time.perf_counter()
            conn = None
            try:
                args = connect_args(self.target, self._password())
                args["timeout"] = int(self.statement_timeout_s) + SOCKET_TIMEOUT_MARGIN_S
                conn = self._connect(**args)
                # Committed once, so the rollback after every query keeps it.
                conn.cursor().execute(
                    f"SET statement_timeout = {int(self.statement_timeout_s * 1000)}"
                )
                conn.commit()
            except Exception as e:
                if not _from_the_connection(e):
                    raise
                if conn is not None:
                    _close_quietly(conn)
                raise WarehouseError(
                    f"cannot connect to Redshift at {self.target.host}: {_message(e)}"
                ) from e
            self._conn = conn
            logger.info(
                "connected to redshift %s:%s/%s in %.2fs",
                self.target.host, self.target.port, self.target.database,
                time.perf_counter() - started,
            )  # fmt: skip
        return self._conn

    def open(self) -> None:
        """Connect now rather than on first use; WarehouseError if the server refuses."""
        with self._lock:
            self._connection()

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            _close_quietly(conn)

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        """A cursor in a transaction that is always rolled back; errors as WarehouseError.

        A broken connection is dropped (so the next call re-opens it) and reported as
        `_Disconnected`. Other errors (a file the export cannot write) pass through as
        they are, after the rollback.
        """
        with self._lock:
            conn = self._connection()
            try:
                cursor = conn.cursor()
                cursor.paramstyle = "named"
                yield cursor
            except Exception as e:
                if _is_disconnect(e):
                    self._drop_connection()
                    raise _Disconnected(_message(e)) from e
                if isinstance(e, redshift_connector.Error):
                    raise WarehouseError(_message(e)) from e
                raise
            finally:
                if self._conn is conn:
                    try:
                        conn.rollback()
                    except Exception as e:
                        if not _from_the_connection(e):
                            raise
                        self._drop_connection()

    def run(self, work: Callable[[Any], Any], *, retry: bool) -> Any:
        """Run `work(cursor)`; if the connection broke under it and `retry` says the work
        only reads, once more on a fresh connection (that attempt is not retried)."""
        try:
            with self._transaction() as cursor:
                return work(cursor)
        except _Disconnected as e:
            if not retry:
                raise WarehouseError(f"lost the connection to Redshift: {e}") from e
            logger.warning("redshift connection broke (%s); re-opening it and retrying", e)
        return self.run(work, retry=False)

    def close(self) -> None:
        with self._lock:
            self._drop_connection()


class _Disconnected(Exception):
    """The connection broke under a statement; the caller may retry on a new one."""


def _is_disconnect(error: BaseException) -> bool:
    """Whether `error` means the session is gone (as opposed to the server refusing or
    cancelling a statement on a live session, e.g. 57014 for a statement timeout)."""
    if isinstance(error, redshift_connector.Error):
        state = _field(error, "C")
        if state:
            return state.startswith(_DISCONNECT_STATES)
        # Without a server response these two are the driver's own socket failures.
        return isinstance(
            error, redshift_connector.InterfaceError | redshift_connector.OperationalError
        )
    if isinstance(error, _TRANSPORT_ERRORS):
        return True
    return isinstance(error, OSError) and error.errno in _NETWORK_ERRNOS


def _from_the_connection(error: BaseException) -> bool:
    """Raised by the driver or its socket (as opposed to a bug, or a local file's error)."""
    return isinstance(error, redshift_connector.Error) or _is_disconnect(error)


def _close_quietly(conn: Any) -> None:
    try:
        conn.close()
    except Exception:  # it is already broken; closing is best effort
        logger.debug("closing a broken redshift connection failed", exc_info=True)


def _field(error: BaseException, code: str) -> str:
    """A field of the server's error response (C: SQLSTATE, M: message), if there is one."""
    detail = error.args[0] if error.args else None
    return str(detail.get(code, "")) if isinstance(detail, dict) else ""


def _message(error: BaseException) -> str:
    return _field(error, "M") or str(error) or type(error).__name__
