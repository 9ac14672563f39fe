"""The spend ledger's DynamoDB table (USAGE_TABLE) for tests on moto."""

from __future__ import annotations

import threading
from typing import Any


class Serialized:
    """A DynamoDB client whose calls run one at a time. DynamoDB applies each update to an
    item atomically; moto's in-process backend takes no lock, so the tests that race
    threads give it one (the threads still interleave between calls)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()
        self.exceptions = client.exceptions

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return method(*args, **kwargs)

        return call


def create_usage_table(client: Any, name: str) -> None:
    client.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "scope", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "scope", "KeyType": "HASH"}],
    )
