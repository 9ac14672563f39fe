"""The chat platforms' front doors on a developer's machine: `databot dev` serves Slack over
Socket Mode, `databot sign-event` signs a sample event as Slack would, `databot
sign-activity` signs a sample Teams activity with a local test key. The command line
(executor/) reaches them here; each platform's package is imported only inside the
function that needs it, so executor/ never imports it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
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


def sign_teams_event(
    event: dict[str, Any], key_path: Path, *, key_url: str, app_id: str | None, env: Env
) -> tuple[dict[str, Any], str | None]:
    """`event` with a Bearer token for its activity, signed with the test key at `key_path`
    (bot.teams.local_keys). A missing key is generated, with the documents of a key endpoint
    to be served at `key_url` beside it: the second value is then the TEAMS_OPENID_METADATA_URL
    that finds it (else None). The audience is `app_id`,
    else TEAMS_APP_ID, else the bot the activity is addressed to. ValueError when the
    event carries no activity or no app id can be found."""
    from bot.teams.config import TeamsConfig
    from bot.teams.local_keys import (
        METADATA_FILE,
        LocalSigningKey,
        load_key,
        sign_activity_event,
        write_key_endpoint,
    )

    activity = json.loads(event.get("body") or "null")
    if not isinstance(activity, dict):
        raise ValueError("the event's body is not an activity")
    recipient = str((activity.get("recipient") or {}).get("id") or "")
    audience = app_id or TeamsConfig.from_env(env).app_id or recipient.removeprefix("28:")
    if not audience:
        raise ValueError("no app id: set TEAMS_APP_ID or pass --app-id")
    if key_path.exists():
        return sign_activity_event(event, load_key(key_path), app_id=audience), None
    key = LocalSigningKey.generate()
    write_key_endpoint(key_path, key, key_url)
    metadata_url = f"{key_url.rstrip('/')}/{METADATA_FILE}"
    return sign_activity_event(event, key, app_id=audience), metadata_url
