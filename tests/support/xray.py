"""Running an ingress handler as a traced Lambda container runs it, and reading its trace.

`xray_daemon` (per test): a UDP socket standing in for the X-Ray daemon, which the X-Ray
SDK streams its subsegments to (`AWS_XRAY_DAEMON_ADDRESS`). `invoke_in_lambda` runs one
handler on one event in a fresh interpreter with what Lambda sets for a sampled, actively
traced invocation (`LAMBDA_TASK_ROOT`, `_X_AMZN_TRACE_ID`), so the real Powertools Tracer
and X-Ray SDK run: nothing in the test process is patched.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.paths import REPO

TRACE_ID = "1-6756f0a0-4f3c2b1a0d9e8f7a6b5c4d3e"
TRACE_PARENT = "53995c3f42cd8ad8"  # the function's own segment, which Lambda records
TRACE_HEADER = f"Root={TRACE_ID};Parent={TRACE_PARENT};Sampled=1"

INVOKE = """
import json, sys
from importlib import import_module
from tests.support.events import LambdaContext

module, event = sys.argv[1], json.loads(sys.stdin.read())
response = import_module(module).handler(event, LambdaContext())
print(json.dumps({"response": response, "xray_loaded": "aws_xray_sdk" in sys.modules}))
"""


class XRayDaemon:
    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.settimeout(0.2)
        self.address = f"127.0.0.1:{self._socket.getsockname()[1]}"

    def subsegments(self) -> list[dict[str, Any]]:
        """Every subsegment received so far, nested ones included (a streamed document
        holds its closed children)."""
        found: list[dict[str, Any]] = []
        while True:
            try:
                datagram = self._socket.recv(65536)
            except TimeoutError:
                return found
            _header, _, document = datagram.decode().partition("\n")
            pending = [json.loads(document)]
            while pending:
                entity = pending.pop()
                found.append(entity)
                pending.extend(entity.get("subsegments", []))

    def close(self) -> None:
        self._socket.close()


@pytest.fixture
def xray_daemon() -> Iterator[XRayDaemon]:
    daemon = XRayDaemon()
    yield daemon
    daemon.close()


@dataclass
class Invocation:
    response: dict[str, Any]
    xray_loaded: bool


def invoke_in_lambda(
    module: str, event: dict[str, Any], env: dict[str, str], daemon: XRayDaemon
) -> Invocation:
    """`module`'s handler on `event` in a fresh interpreter, as Lambda runs it with `env`
    (which says whether tracing is disabled)."""
    lambda_env = {
        "PATH": os.environ.get("PATH", ""),
        **env,
        "LAMBDA_TASK_ROOT": str(REPO),
        "_X_AMZN_TRACE_ID": TRACE_HEADER,
        "AWS_XRAY_DAEMON_ADDRESS": daemon.address,
    }
    result = subprocess.run(
        [sys.executable, "-c", INVOKE, module],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        cwd=REPO,
        env=lambda_env,
        timeout=60,
        check=True,
    )
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    return Invocation(outcome["response"], outcome["xray_loaded"])
