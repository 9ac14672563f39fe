"""The chat platforms' front doors on a developer's machine: `databot dev` serves Slack over
Socket Mode, `databot sign-event` signs a sample event as Slack would. The command line
(executor/) reaches them here; each platform's package is imported only inside the
function that needs it, so executor/ never imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.config import Env


def slack_socket_mode(env: Env) -> Callable[[], None]:
    """What serves the Slack app over Socket Mode until interrupted (bot.slack.socket_mode).
    Raises ConfigError when the tokens are missing."""
    from bot.slack.socket_mode import socket_mode_server

    return socket_mode_server(env)


def slack_signing_secret(env: Env) -> str | None:
    """SLACK_SIGNING_SECRET, as the Slack front door reads it."""
    from bot.slack.config import SlackConfig

    return SlackConfig.from_env(env).signing_secret


def sign_slack_event(
    event: dict[str, Any], secret: str, timestamp: int | None = None
) -> dict[str, Any]:
    """`event` with Slack's signature headers for its body (bot.slack.signing)."""
    from bot.slack.signing import sign_event

    return sign_event(event, secret, timestamp)
