"""Slack request signatures (v0 HMAC-SHA256 of `v0:<timestamp>:<body>`), both ways.

Verification runs in front of Bolt: Bolt parses the body before it verifies and its
verifier raises on a non-numeric timestamp, so an unsigned malformed request would become
a 500. Here every such request is simply "not signed".
"""

from __future__ import annotations

import base64
import copy
import time
from collections.abc import Mapping
from typing import Any

from slack_sdk.signature import SignatureVerifier

TIMESTAMP_HEADER = "x-slack-request-timestamp"
SIGNATURE_HEADER = "x-slack-signature"


def is_signed(verifier: SignatureVerifier, headers: Mapping[str, str], body: str) -> bool:
    """True when the lower-cased `headers` carry a valid, fresh (five minutes) signature."""
    timestamp = headers.get(TIMESTAMP_HEADER)
    signature = headers.get(SIGNATURE_HEADER)
    if not timestamp or not signature or not timestamp.isascii() or not timestamp.isdigit():
        return False
    return verifier.is_valid(body=body, timestamp=timestamp, signature=signature)


def signature_headers(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: signature or ""}


def sign_event(
    event: Mapping[str, Any], secret: str, timestamp: int | None = None
) -> dict[str, Any]:
    """A copy of an API Gateway / Function URL event with fresh signature headers over its
    body (decoded first when `isBase64Encoded`)."""
    signed = copy.deepcopy(dict(event))
    body = signed.get("body") or ""
    if signed.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8")
    headers = {
        name: value
        for name, value in (signed.get("headers") or {}).items()
        if name.lower() not in (TIMESTAMP_HEADER, SIGNATURE_HEADER)
    }
    headers.update(signature_headers(secret, body, timestamp))
    signed["headers"] = headers
    return signed
