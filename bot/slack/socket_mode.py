"""The Slack app over Socket Mode, for `databot dev`: requests come over the app's own
websocket (an app-level token with connections:write), so no public URL and no signing
secret are needed."""

from __future__ import annotations

from collections.abc import Callable

from bot.settings import IngressSettings
from bot.slack.app import create_app


def socket_mode_server(app_token: str) -> Callable[[], None]:
    """The app built from the environment (SettingsError names what is missing), and what
    serves it until interrupted."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    app = create_app(IngressSettings.from_env())
    return SocketModeHandler(app, app_token).start
