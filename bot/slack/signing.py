"""Slack request signatures (v0 HMAC-SHA256 of `v0:<timestamp>:<body>`), both ways.

Verification runs in front of Bolt: Bolt parses the body before it verifies and its
verifier raises on a non-numeric timestamp, so an unsigned malformed request would become
a 500. Here every such request is simply "not signed". The signature is computed over the
body's bytes, as Slack computes it, so a body that is not UTF-8 is still verifiable.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from typing import Any

TIMESTAMP_HEADER = "x-slack-request-timestamp"
SIGNATURE_HEADER = "x-slack-signature"
# Slack's replay window: a signature older (or newer) than this is refused.
MAX_AGE_S = 5 * 60


def is_signed(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    clock: Callable[[], float] = time.time,
) -> bool:
    """True when the lower-cased `headers` carry a valid, fresh signature of `body`."""
    timestamp = headers.get(TIMESTAMP_HEADER)
    signature = headers.get(SIGNATURE_HEADER)
    if not timestamp or not signature or not timestamp.isascii() or not timestamp.isdigit():
        return False
    if abs(clock() - int(timestamp)) > MAX_AGE_S:
        return False
    return hmac.compare_digest(_signature(secret, timestamp, body), signature)


def signature_headers(
    secret: str, body: str | bytes, timestamp: int | None = None
) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    raw = body.encode("utf-8") if isinstance(body, str) else body
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: _signature(secret, stamp, raw)}


def sign_event(
    event: Mapping[str, Any], secret: str, timestamp: int | None = None
) -> dict[str, Any]:
    """A copy of an API Gateway / Function URL event with fresh signature headers over its
    body (decoded first when `isBase64Encoded`)."""
    signed = copy.deepcopy(dict(event))
    body = signed.get("body") or ""
    if signed.get("isBase64Encoded"):
        raw = base64.b64decode(body)
    else:
        raw = str(body).encode("utf-8", "surrogatepass")
    headers = {
        name: value
        for name, value in (signed.get("headers") or {}).items()
        if name.lower() not in (TIMESTAMP_HEADER, SIGNATURE_HEADER)
    }
    headers.update(signature_headers(secret, raw, timestamp))
    signed["headers"] = headers
    return signed


def _signature(secret: str, timestamp: str, body: bytes) -> str:
    message = b"v0:" + timestamp.encode("ascii") + b":" + body
    return "v0=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
