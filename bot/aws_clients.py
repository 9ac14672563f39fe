"""AWS clients built on first use, so a cold start builds only the clients its request
calls: a Slack mention needs DynamoDB and SQS, a URL check or an ignored event neither.
Building a client (its service model, endpoint rules) is a large part of a cold start.
Every client comes from boto3's one default session, which keeps the loaded models."""

from __future__ import annotations

import threading
from typing import Any

import boto3


class LazyClient:
    """A boto3 client for `service`, built the first time one of its methods is used; one
    instance may be shared by every store that talks to the service."""

    def __init__(self, service: str, **options: Any) -> None:
        self._service = service
        self._options = options
        self._client: Any = None
        self._lock = threading.Lock()

    @property
    def built(self) -> bool:
        return self._client is not None

    def __getattr__(self, name: str) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = boto3.client(self._service, **self._options)
        return getattr(self._client, name)
