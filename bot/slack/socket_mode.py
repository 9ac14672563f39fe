"""The Slack app over Socket Mode, for `databot dev`: requests come over the app's own
websocket (an app-level token with connections:write), so no public URL and no signing
secret are needed."""

from __future__ import annotations

from collections.abc import Callable

from bot.config import ConfigError, Env
from bot.slack.app import app_from_env
from bot.slack.config import SlackConfig


def socket_mode_server(env: Env) -> Callable[[], None]:
    """What builds the app from `env` and serves it until interrupted. The tokens are
    checked now (ConfigError names them); the queue and tables are read when it starts,
    so a local stack started in between is seen."""
    slack = SlackConfig.from_env(env)
    app_token = slack.app_token
    if not app_token or not slack.bot_token:
        raise ConfigError("set SLACK_BOT_TOKEN (xoxb-...) and SLACK_APP_TOKEN (xapp-..., "
                          "an app-level token with connections:write)")

    def serve() -> None:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        SocketModeHandler(app_from_env(slack, env), app_token).start()

    return serve
