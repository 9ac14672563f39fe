"""An HTTP proxy that injects AWS faults between a worker and moto's server.

Point a service at it with `AWS_ENDPOINT_URL_<SERVICE>` (e.g. AWS_ENDPOINT_URL_DYNAMODB):
the product code is unchanged, it only sees DynamoDB answer the way DynamoDB does under
load. A seeded share of requests is answered, without reaching moto, with a throttling
error (HTTP 400 `ThrottlingException` or `ProvisionedThroughputExceededException`) or a
server error (HTTP 500 `InternalServerError`, 503 `ServiceUnavailable`); the rest are
forwarded unchanged. `injected` counts the faults by kind.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

# (kind, HTTP status, error code) of the faults, drawn with equal odds.
FAULTS = (
    ("throttling", 400, "ThrottlingException"),
    ("throttling", 400, "ProvisionedThroughputExceededException"),
    ("5xx", 500, "InternalServerError"),
    ("5xx", 503, "ServiceUnavailable"),
)
# Headers the proxy sets itself.
HOP_HEADERS = {"host", "content-length", "connection", "transfer-encoding"}


class FaultProxy:
    def __init__(self, target: str, *, share: float, seed: int) -> None:
        split = urlsplit(target)
        self._target = (split.hostname or "127.0.0.1", split.port or 80)
        self.share = share
        self.injected: Counter[str] = Counter()
        self.forwarded = 0
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the proxy first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FaultProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                proxy._handle(self)

            def do_GET(self) -> None:
                proxy._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                """Keep test output quiet."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _draw(self) -> tuple[str, int, str] | None:
        with self._lock:
            if self._rng.random() >= self.share:
                self.forwarded += 1
                return None
            fault = self._rng.choice(FAULTS)
            self.injected[fault[0]] += 1
            return fault

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        fault = self._draw()
        if fault is not None:
            _, status, code = fault
            payload = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}",
                                  "message": "injected fault"}).encode()
            self._reply(request, status, {"Content-Type": "application/x-amz-json-1.0",
                                          "x-amzn-ErrorType": code}, payload)
            return
        connection = http.client.HTTPConnection(*self._target, timeout=30)
        try:
            headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
            connection.request(request.command, request.path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            kept = {k: v for k, v in response.getheaders() if k.lower() not in HOP_HEADERS}
            self._reply(request, response.status, kept, data)
        finally:
            connection.close()

    @staticmethod
    def _reply(
        request: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes
    ) -> None:
        request.send_response(status)
        for name, value in headers.items():
            request.send_header(name, value)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)


@contextmanager
def fault_proxy(target: str, *, share: float, seed: int) -> Iterator[FaultProxy]:
    """A running FaultProxy in front of `target` (moto's endpoint URL)."""
    proxy = FaultProxy(target, share=share, seed=seed).start()
    try:
        yield proxy
    finally:
        proxy.stop()
