"""Redshift configuration without a server: WAREHOUSE_URL parsing, the arguments handed to
redshift-connector (password, TLS, IAM cluster or serverless), the secret password, and
which errors mean a broken connection."""

from __future__ import annotations

import errno
import json
import ssl
import struct
from typing import Any

import boto3
import pytest
import redshift_connector
from botocore.stub import Stubber

from executor.config import WarehouseConfig
from executor.errors import WarehouseError
from executor.warehouse import redshift
from executor.warehouse.redshift import (
    RedshiftWarehouse,
    SecretPassword,
    connect_args,
    parse_url,
)

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:databot/redshift-AbCdEf"


def test_a_url_gives_host_port_database_user_and_schemas() -> None:
    target = parse_url("redshift://analyst@cluster.example.com/dev?schemas=public,%20sales")
    assert (target.host, target.port, target.database, target.user) == (
        "cluster.example.com", 5439, "dev", "analyst",
    )  # fmt: skip
    assert target.schemas == ("public", "sales")
    assert not target.iam


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redshift://analyst:hunter2@host/dev", "must not contain a password"),
        ("redshift://analyst@host", "needs a database"),
        ("redshift://analyst@host/dev?sslmod=disable", "unknown WAREHOUSE_URL option.*sslmod"),
        ("redshift://analyst@host/dev?sslmode=prefer", "sslmode must be one of"),
        ("postgres://analyst@host/dev", "must look like redshift://"),
    ],
)
def test_bad_urls_are_refused_with_the_reason(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        parse_url(url)
    assert "hunter2" not in str(caught.value)


def test_password_auth_verifies_tls_unless_disabled() -> None:
    args = connect_args(parse_url("redshift://analyst@host:5440/dev"), "pw")
    assert args == {
        "host": "host", "port": 5440, "database": "dev", "application_name": "databot",
        "ssl": True, "sslmode": "verify-full", "user": "analyst", "password": "pw",
    }  # fmt: skip
    plain = connect_args(parse_url("redshift://analyst@host/dev?sslmode=disable"), "pw")
    assert plain["ssl"] is False and "sslmode" not in plain


def test_password_auth_needs_a_user_and_a_password() -> None:
    with pytest.raises(ValueError, match="needs a user"):
        connect_args(parse_url("redshift://host/dev"), "pw")
    with pytest.raises(ValueError, match="REDSHIFT_PASSWORD or REDSHIFT_SECRET_ARN"):
        connect_args(parse_url("redshift://analyst@host/dev"), None)


def test_iam_auth_for_a_provisioned_cluster() -> None:
    url = "redshift://analyst@host/dev?iam=true&cluster_identifier=prod&region=eu-west-1"
    args = connect_args(parse_url(url), None)
    assert args["iam"] is True
    assert args["cluster_identifier"] == "prod"
    assert args["db_user"] == "analyst"
    assert args["region"] == "eu-west-1"
    assert "password" not in args and "is_serverless" not in args


def test_iam_auth_for_a_serverless_workgroup() -> None:
    url = "redshift://host/dev?iam=1&serverless_work_group=analytics&db_user=bot&profile=ops"
    args = connect_args(parse_url(url), None)
    assert args["is_serverless"] is True
    assert args["serverless_work_group"] == "analytics"
    assert (args["db_user"], args["profile"]) == ("bot", "ops")
    assert "cluster_identifier" not in args


def test_iam_auth_needs_a_cluster_or_a_workgroup() -> None:
    with pytest.raises(ValueError, match=r"cluster_identifier=\.\.\. or serverless_work_group"):
        connect_args(parse_url("redshift://analyst@host/dev?iam=true"), None)


def test_from_config_needs_some_way_to_authenticate() -> None:
    with pytest.raises(ValueError, match="REDSHIFT_PASSWORD, REDSHIFT_SECRET_ARN or iam=true"):
        RedshiftWarehouse.from_config(WarehouseConfig(url="redshift://a@host/dev"))


class _FakeConnection:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    def cursor(self) -> _FakeConnection:
        return self

    def execute(self, sql: str, params: Any = None) -> None:
        self.log.append(sql)

    def fetchall(self) -> list[Any]:
        return []

    def commit(self) -> None:
        self.log.append("COMMIT")

    def rollback(self) -> None:
        self.log.append("ROLLBACK")

    def close(self) -> None:
        self.log.append("CLOSE")


def test_a_connection_gets_the_statement_timeout_and_a_longer_socket_timeout() -> None:
    # GIVEN a warehouse whose driver is a recording fake
    seen: list[dict[str, Any]] = []
    log: list[str] = []

    def connect(**kwargs: Any) -> _FakeConnection:
        seen.append(kwargs)
        return _FakeConnection(log)

    warehouse = RedshiftWarehouse(
        parse_url("redshift://analyst@host/dev"),
        password=lambda: "pw",
        statement_timeout_s=45,
        connect=connect,
    )
    # WHEN it connects
    warehouse._connection()
    warehouse.close()

    # THEN the session timeout is set and committed, and the socket waits longer than it
    assert log == ["SET statement_timeout = 45000", "COMMIT", "CLOSE"]
    assert seen[0]["timeout"] > 45 and seen[0]["password"] == "pw"


def test_a_forced_catalog_read_waits_for_the_minimum_interval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a warehouse on a fake driver whose catalog is empty
    log: list[str] = []
    warehouse = RedshiftWarehouse(
        parse_url("redshift://analyst@host/dev"),
        password=lambda: "pw",
        connect=lambda **kwargs: _FakeConnection(log),
    )

    def catalog_reads() -> int:
        return sum("information_schema.columns" in sql for sql in log)

    # WHEN a refresh is asked for right after the first read, the cache answers
    warehouse.tables()
    warehouse.tables(refresh=True)
    assert catalog_reads() == 1

    # WHEN the minimum interval has passed, only a refresh re-reads before the 10-minute TTL
    monkeypatch.setattr(redshift, "CATALOG_REFRESH_S", 0.0)
    warehouse.tables()
    assert catalog_reads() == 1
    warehouse.tables(refresh=True)
    assert catalog_reads() == 2


def test_the_secret_password_is_read_from_json_once() -> None:
    client = boto3.client(
        "secretsmanager", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stub:
        stub.add_response(
            "get_secret_value",
            {"ARN": ARN, "SecretString": json.dumps({"username": "a", "password": "s3cret"})},
            {"SecretId": ARN},
        )
        password = SecretPassword(ARN, client=client)
        assert password() == "s3cret"
        assert password() == "s3cret"  # cached: a second call would fail the Stubber
        stub.assert_no_pending_responses()


def test_a_secret_without_a_password_field_is_refused_without_echoing_it() -> None:
    client = boto3.client(
        "secretsmanager", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stub:
        stub.add_response(
            "get_secret_value",
            {"ARN": ARN, "SecretString": "not-json-but-secret"},
            {"SecretId": ARN},
        )
        with pytest.raises(WarehouseError, match="not a JSON object with a 'password'") as caught:
            SecretPassword(ARN, client=client)()
    assert "not-json-but-secret" not in str(caught.value)


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
    assert redshift._is_disconnect(error)


@pytest.mark.parametrize("error", NOT_BROKEN.values(), ids=NOT_BROKEN.keys())
def test_answers_from_a_live_session_and_local_failures_are_not_broken_connections(
    error: Exception,
) -> None:
    assert not redshift._is_disconnect(error)
