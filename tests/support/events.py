"""Sample Lambda events from events/*.json (the same files `sam local invoke -e` reads)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"


def load_event(name: str) -> dict[str, Any]:
    """A fresh copy of events/<name>.json; `name` may carry the .json suffix or not."""
    path = EVENTS_DIR / (name if name.endswith(".json") else f"{name}.json")
    event: dict[str, Any] = json.loads(path.read_text())
    return event


def with_body(name: str, body: str | bytes, content_type: str | None = None) -> dict[str, Any]:
    """events/<name>.json carrying `body` instead of its own: bytes go base64-encoded, as API
    Gateway sends a body that is not text; `content_type` replaces the content-type header."""
    event = load_event(name)
    if isinstance(body, bytes):
        event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    else:
        event["body"], event["isBase64Encoded"] = body, False
    if content_type is not None:
        event["headers"]["content-type"] = content_type
    return event


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that handlers and Bolt's adapter read."""

    function_name: str = "databot-SlackEventsFunction"
    function_version: str = "$LATEST"
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:databot-SlackEventsFunction"
    )
    memory_limit_in_mb: int = 256
    aws_request_id: str = "6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b"
    log_group_name: str = "/aws/lambda/databot-SlackEventsFunction"
    log_stream_name: str = "2026/11/21/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000
