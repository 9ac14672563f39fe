"""AWS clients built on first use, so a cold start builds only the clients its request
calls: a Slack mention needs DynamoDB and SQS, a URL check or an ignored event neither.
Building a client (its service model, endpoint rules) is a large part of a cold start.

Every client comes from one botocore session, which loads the endpoint data and each
service's model once. The front doors need botocore alone: importing boto3 would add its
resource layer and s3transfer to every cold start."""

from __future__ import annotations

import threading
from typing import Any

import botocore.session

_session: botocore.session.Session | None = None
# A botocore session is not safe to build clients from in several threads at once.
_session_lock = threading.Lock()


def new_client(service: str, **options: Any) -> Any:
    """A botocore client for `service` from the process's one session."""
    global _session
    with _session_lock:
        if _session is None:
            _session = botocore.session.get_session()
        return _session.create_client(service, **options)


class LazyClient:
    """A client for `service`, built the first time one of its methods is used; one
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
                    self._client = new_client(self._service, **self._options)
        return getattr(self._client, name)
