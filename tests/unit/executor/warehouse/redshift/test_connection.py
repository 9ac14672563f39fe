"""The shared Redshift connection without a server: its session settings and which
errors mean a broken connection."""

from __future__ import annotations

import errno
import ssl
import struct
from typing import Any

import pytest
import redshift_connector

from executor.warehouse.redshift import connection
from executor.warehouse.redshift.connection import RedshiftConnection
from executor.warehouse.redshift.target import parse_url
from tests.support.redshift_driver import FakeConnection


def test_a_connection_gets_the_statement_timeout_and_a_longer_socket_timeout() -> None:
    # GIVEN a connection whose driver is a recording fake
    seen: list[dict[str, Any]] = []
    log: list[str] = []

    def connect(**kwargs: Any) -> FakeConnection:
        seen.append(kwargs)
        return FakeConnection(log)

    shared = RedshiftConnection(
        parse_url("redshift://analyst@host/dev"),
        password=lambda: "pw",
        statement_timeout_s=45,
        connect=connect,
    )
    # WHEN it connects to run some work
    shared.run(lambda cursor: None, retry=False)
    shared.close()

    # THEN the session timeout is set and committed, and the socket waits longer than it;
    # the work's transaction is rolled back
    assert log == ["SET statement_timeout = 45000", "COMMIT", "ROLLBACK", "CLOSE"]
    assert seen[0]["timeout"] > 45 and seen[0]["password"] == "pw"


BROKEN = {
    "reset": ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
    "broken pipe": BrokenPipeError(errno.EPIPE, "Broken pipe"),
    "socket timeout": TimeoutError("timed out"),
    "tls stream cut": ssl.SSLEOFError(8, "EOF occurred in violation of protocol"),
    "host unreachable": OSError(errno.EHOSTUNREACH, "No route to host"),
    "short header": struct.error("unpack requires a buffer of 5 bytes"),
    "driver socket closed": redshift_connector.InterfaceError("BrokenPipe: server socket closed"),
    "driver time out": redshift_connector.OperationalError("connection time out"),
    "connection failure": redshift_connector.ProgrammingError({"C": "08006", "M": "x"}),
    "pgbouncer protocol": redshift_connector.ProgrammingError({"C": "08P01", "M": "x"}),
    "terminated": redshift_connector.ProgrammingError({"C": "57P01", "M": "x"}),
}
NOT_BROKEN = {
    "statement timeout": redshift_connector.ProgrammingError(
        {"C": "57014", "M": "canceling statement due to statement timeout"}
    ),
    "syntax error": redshift_connector.ProgrammingError({"C": "42601", "M": "x"}),
    "bad password": redshift_connector.InterfaceError({"C": "28000", "M": "x"}),
    "disk full while writing an export": OSError(errno.ENOSPC, "No space left on device"),
    "a bug": ValueError("not a network problem"),
}


@pytest.mark.parametrize("error", BROKEN.values(), ids=BROKEN.keys())
def test_every_shape_of_a_lost_session_counts_as_a_broken_connection(error: Exception) -> None:
    assert connection._is_disconnect(error)


@pytest.mark.parametrize("error", NOT_BROKEN.values(), ids=NOT_BROKEN.keys())
def test_answers_from_a_live_session_and_local_failures_are_not_broken_connections(
    error: Exception,
) -> None:
    assert not connection._is_disconnect(error)
