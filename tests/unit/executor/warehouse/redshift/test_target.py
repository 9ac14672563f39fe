"""The Redshift target without a server: WAREHOUSE_URL parsing, the arguments handed to
redshift-connector (password, TLS, IAM cluster or serverless) and the secret password."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from executor.errors import WarehouseError
from executor.warehouse.redshift.target import SecretPassword, connect_args, parse_url

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
