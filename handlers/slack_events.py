"""Lambda entry point for Slack: events, slash commands and interactivity (HTTP API or
Function URL). The app is built on the first request, once per container."""

from __future__ import annotations

import functools
from typing import Any

from bot.config import Env
from bot.slack.ingress import SlackIngress


@functools.cache
def _ingress() -> SlackIngress:
    return SlackIngress.from_env(Env())


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _ingress().handle(event, context)
