"""Lambda entry point for Slack: events, slash commands and interactivity (HTTP API or
Function URL). The app is built on the first request, once per container."""

from __future__ import annotations

import functools
from typing import Any

from bot.settings import IngressSettings
from bot.slack.ingress import SlackIngress


@functools.cache
def _ingress() -> SlackIngress:
    return SlackIngress.from_settings(IngressSettings.from_env())


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _ingress().handle(event, context)
