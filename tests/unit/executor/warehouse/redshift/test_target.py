"""The Redshift target without a server: WAREHOUSE_URL parsing, the arguments handed to
redshift-connector (password, TLS, IAM cluster or serverless) and the secret password."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from executor.errors import WarehouseError
from executor.warehouse.redshift.target import (
    SecretPassword,
    connect_args,
    parse_url,
    password_source,
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


def test_the_password_comes_from_iam_the_environment_or_a_secret_in_that_order() -> None:
    # GIVEN both a password and a secret: IAM needs neither, else the password wins
    both: dict[str, Any] = {"password": "pw", "secret_arn": ARN, "region": "us-east-1"}
    iam = password_source(parse_url("redshift://a@host/dev?iam=1&cluster_identifier=c"), **both)
    assert iam() is None
    fixed = password_source(parse_url("redshift://a@host/dev"), **both)
    assert fixed() == "pw" and "pw" not in repr(fixed)
    # WHEN only a secret is named, it is read (lazily) from Secrets Manager
    secret = password_source(
        parse_url("redshift://a@host/dev"), password=None, secret_arn=ARN, region="us-east-1"
    )
    assert isinstance(secret, SecretPassword) and secret.secret_arn == ARN
    # WHEN there is neither, the error names every way to authenticate
    with pytest.raises(ValueError, match="REDSHIFT_PASSWORD, REDSHIFT_SECRET_ARN or iam=true"):
        password_source(
            parse_url("redshift://a@host/dev"), password=None, secret_arn=None, region=None
        )


def _secrets_client() -> Any:
    return boto3.client(
        "secretsmanager", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


def _answer_once(stub: Stubber, secret_string: str) -> None:
    stub.add_response(
        "get_secret_value", {"ARN": ARN, "SecretString": secret_string}, {"SecretId": ARN}
    )


def test_the_secret_password_is_read_from_json_once() -> None:
    client = _secrets_client()
    with Stubber(client) as stub:
        _answer_once(stub, json.dumps({"username": "a", "password": "s3cret"}))
        password = SecretPassword(ARN, client=client)
        assert password() == "s3cret"
        assert password() == "s3cret"  # cached: a second call would fail the Stubber
        stub.assert_no_pending_responses()


def test_a_secret_without_a_password_field_is_refused_without_echoing_it() -> None:
    client = _secrets_client()
    with Stubber(client) as stub:
        _answer_once(stub, "not-json-but-secret")
        with pytest.raises(WarehouseError, match="not a JSON object with a 'password'") as caught:
            SecretPassword(ARN, client=client)()
    assert "not-json-but-secret" not in str(caught.value)
