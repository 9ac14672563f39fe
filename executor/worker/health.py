"""`GET /health` for the ECS health check: 200 while the poll loop is alive and has polled
recently, 503 otherwise, and 503 while the worker is still starting (warming up: see
executor.worker.warmup). The body is a small JSON status for people looking at it."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Status = Callable[[], tuple[bool, dict[str, Any]]]


def starting() -> tuple[bool, dict[str, Any]]:
    """The status of a worker still loading its modules, warehouse and agent."""
    return False, {"starting": True}


class HealthServer:
    def __init__(self, port: int, status: Status = starting) -> None:
        """`status()` returns (healthy, details); `report` replaces it."""
        self._status = status
        health = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] != "/health":
                    self.send_error(404)
                    return
                healthy, details = health._status()
                body = json.dumps({"healthy": healthy, **details}).encode()
                self.send_response(200 if healthy else 503)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Health checks every few seconds would drown the job logs."""

        self._server = ThreadingHTTPServer(("0.0.0.0", port), Handler)
        self._server.daemon_threads = True

    def report(self, status: Status) -> None:
        """From now on answer with `status()` (the worker's, once it is built)."""
        self._status = status

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        threading.Thread(target=self._server.serve_forever, name="health", daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
