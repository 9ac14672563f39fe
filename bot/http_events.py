"""API Gateway HTTP API (payload 2.0) and Lambda Function URL events, as plain requests.

Both deliver the same shape: `requestContext.http.method`, `rawPath`, lower-case `headers`,
a `body` that is base64-encoded when `isBase64Encoded` is true. Translating it is a pure
function, so both ingress Lambdas (and their tests) read requests the same way.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class BadEvent(ValueError):
    """The event's body cannot be read (bad base64, not UTF-8)."""


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: str
    domain: str | None = None
    path_parameters: dict[str, str] = field(default_factory=dict)
    request_context: dict[str, Any] = field(default_factory=dict)

    @property
    def body_bytes(self) -> int:
        return len(self.body.encode())

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def parse_http_event(event: Mapping[str, Any]) -> HttpRequest:
    context = event.get("requestContext") or {}
    method = (context.get("http") or {}).get("method") or context.get("httpMethod") or ""
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    return HttpRequest(
        method=method.upper(),
        path=event.get("rawPath") or (context.get("http") or {}).get("path") or "/",
        headers=headers,
        body=_body_text(event),
        domain=context.get("domainName"),
        path_parameters=dict(event.get("pathParameters") or {}),
        request_context=dict(context),
    )


def _body_text(event: Mapping[str, Any]) -> str:
    body = event.get("body") or ""
    if not event.get("isBase64Encoded"):
        return str(body)
    try:
        return base64.b64decode(body, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as e:
        raise BadEvent(f"request body is not valid base64-encoded UTF-8: {e}") from e


def json_response(status: int, payload: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(payload),
    }
