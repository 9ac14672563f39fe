"""moto's server for SQS, DynamoDB and S3, shared by the test, in-process handlers and
worker subprocesses.

`moto_server` (session): moto's server on a free port (`tests.support.local_aws.start_moto_server`).
`mocked_s3` (per module): an S3 client on moto's in-process S3, for unit tests.
`aws_stack` (per test): a fresh jobs queue with its DLQ, the three DynamoDB tables and the
results bucket, with unique names (`tests.support.local_aws.create_stack`); the environment
variables every deployable reads (endpoint, fake credentials, queue URL, table names,
bucket) are set for the test and available as `aws_stack.env` for subprocesses.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.local_aws import LocalStack, create_stack, start_moto_server

# Short, so redelivery tests take seconds; the worker's heartbeat keeps live jobs hidden.
TEST_VISIBILITY_TIMEOUT_S = 2
TEST_MAX_RECEIVE_COUNT = 3

AwsStack = LocalStack


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """The endpoint URL of a moto server running for the whole test session."""
    endpoint, stop = start_moto_server()
    yield endpoint
    stop()


@pytest.fixture(scope="module")
def mocked_s3() -> Iterator[Any]:
    """One in-process moto S3 for the module (starting it costs about a second)."""
    from moto import mock_aws

    from executor.artifacts.s3 import s3_client

    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        with mock_aws():
            yield s3_client("us-east-1")
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture
def aws_stack(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> AwsStack:
    """A fresh set of databot's AWS resources on the moto server, with the env set."""
    stack = create_stack(
        moto_server,
        visibility_timeout_s=TEST_VISIBILITY_TIMEOUT_S,
        max_receive_count=TEST_MAX_RECEIVE_COUNT,
    )
    for name, value in stack.env.items():
        monkeypatch.setenv(name, value)
    return stack
