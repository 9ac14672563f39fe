"""Sample Lambda events from events/*.json (the same files `sam local invoke -e` reads)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"


def load_event(name: str) -> dict[str, Any]:
    """A fresh copy of events/<name>.json; `name` may carry the .json suffix or not."""
    path = EVENTS_DIR / (name if name.endswith(".json") else f"{name}.json")
    event: dict[str, Any] = json.loads(path.read_text())
    return event


def slack_payload(name: str) -> dict[str, Any]:
    """The Slack payload inside events/<name>.json: its JSON body, its form's fields, or a
    form's `payload` field decoded (interactivity)."""
    event = load_event(name)
    body = event["body"]
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    if body.startswith("{"):
        payload: dict[str, Any] = json.loads(body)
        return payload
    form = dict(parse_qsl(body, keep_blank_values=True))
    return json.loads(form["payload"]) if "payload" in form else dict(form)


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
