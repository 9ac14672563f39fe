"""Signing sample events the way Slack does (slack_sdk's v0 HMAC-SHA256 algorithm).

`signed_event("app_mention")` loads events/app_mention.json and signs it with the test
signing secret; pass an event dict instead of a name to sign an edited copy, and
`timestamp=` to sign in the past.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.slack.signing import sign_event
from tests.support.events import load_event

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"

SignedEvent = Callable[..., dict[str, Any]]


def signed(event: str | dict[str, Any], timestamp: int | None = None) -> dict[str, Any]:
    source = load_event(event) if isinstance(event, str) else event
    return sign_event(source, SIGNING_SECRET, timestamp)


@pytest.fixture
def signed_event() -> SignedEvent:
    return signed
