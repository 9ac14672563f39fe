"""API Gateway HTTP API (payload 2.0) and Lambda Function URL events, as plain requests.

Both deliver the same shape: `requestContext.http.method`, `rawPath`, lower-case `headers`,
a `body` that is base64-encoded when `isBase64Encoded` is true. Translating it is a pure
function, so both ingress Lambdas (and their tests) read requests the same way.

The body is kept as the bytes the client sent: a Slack signature covers those bytes, so a
signed body that is not UTF-8 can still be told apart from an unsigned one.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class BadEvent(ValueError):
    """The event's body cannot be read (bad base64, or not UTF-8 where text is needed)."""


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    headers: dict[str, str]
    raw_body: bytes
    domain: str | None = None
    path_parameters: dict[str, str] = field(default_factory=dict)
    request_context: dict[str, Any] = field(default_factory=dict)

    @property
    def body_bytes(self) -> int:
        return len(self.raw_body)

    def text(self) -> str:
        """The body as text; BadEvent when it is not UTF-8."""
        try:
            return self.raw_body.decode("utf-8")
        except UnicodeDecodeError as e:
            raise BadEvent(f"request body is not valid UTF-8: {e}") from None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def parse_http_event(event: Mapping[str, Any]) -> HttpRequest:
    """The request in `event`. Parts of the wrong type (only a hand-made event has them)
    read as absent, so the caller answers 4xx rather than failing."""
    context = _mapping(event.get("requestContext"))
    http = _mapping(context.get("http"))
    method = http.get("method") or context.get("httpMethod") or ""
    headers = {str(k).lower(): str(v) for k, v in _mapping(event.get("headers")).items()}
    return HttpRequest(
        method=str(method).upper(),
        path=str(event.get("rawPath") or http.get("path") or "/"),
        headers=headers,
        raw_body=_body_bytes(event),
        domain=context.get("domainName"),
        path_parameters={str(k): str(v) for k, v in _mapping(event.get("pathParameters")).items()},
        request_context=dict(context),
    )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _body_bytes(event: Mapping[str, Any]) -> bytes:
    body = event.get("body") or ""
    if not event.get("isBase64Encoded"):
        # Lambda hands text bodies over as str; "surrogatepass" keeps any lone surrogate
        # from a malformed JSON escape instead of failing before the signature is checked.
        return str(body).encode("utf-8", "surrogatepass")
    try:
        return base64.b64decode(str(body), validate=True)
    except (binascii.Error, ValueError) as e:
        raise BadEvent(f"request body is not valid base64: {e}") from e


def json_response(status: int, payload: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(payload),
    }
