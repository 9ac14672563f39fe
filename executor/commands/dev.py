"""`databot dev`: the Slack app over Socket Mode plus an in-process worker, for local work
against a real workspace. No public URL and no AWS account are needed: without
JOBS_QUEUE_URL, moto's server (a dev dependency) runs in-process and provides the queue,
tables and bucket, exactly as the deployed stack would.

Needs SLACK_BOT_TOKEN (xoxb-) and SLACK_APP_TOKEN (xapp-, with connections:write).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from executor.worker.app import add_worker_arguments

    add_worker_arguments(parser)


def run(args: argparse.Namespace) -> int:
    import dataclasses

    from botocore.exceptions import BotoCoreError

    from bot.app import create_app
    from bot.settings import IngressSettings, SettingsError
    from executor.worker.app import WorkerSetupError, worker_from_env
    from executor.worker.config import ConfigError

    app_token = os.environ.get("SLACK_APP_TOKEN")
    bot_token = os.environ.get("SLACK_BOT_TOKEN")
    if not app_token or not bot_token:
        print("databot dev: set SLACK_BOT_TOKEN (xoxb-...) and SLACK_APP_TOKEN (xapp-..., "
              "an app-level token with connections:write)", file=sys.stderr)
        return 2
    if not os.environ.get("JOBS_QUEUE_URL"):
        endpoint = _start_local_aws()
        print(f"databot dev: local AWS (moto) at {endpoint}")

    try:
        # Socket Mode requests come over the app's own websocket, unsigned.
        ingress = IngressSettings.from_env()
        ingress = dataclasses.replace(ingress, signing_secret=ingress.signing_secret or "unused")
        app = create_app(ingress)
        worker = worker_from_env(args, bot_token)
    except (SettingsError, ConfigError, WorkerSetupError, BotoCoreError) as e:
        print(f"databot dev: {e}", file=sys.stderr)
        return 2

    from slack_bolt.adapter.socket_mode import SocketModeHandler

    loop = threading.Thread(target=worker.run, name="poll", daemon=True)
    loop.start()
    print("databot dev: connected over Socket Mode; mention the bot or use /ask (Ctrl-C stops)")
    try:
        SocketModeHandler(app, app_token).start()
    except KeyboardInterrupt:
        pass
    finally:
        worker.stop()
        loop.join(timeout=worker.config.grace_s)
    return 0


def _start_local_aws() -> str:
    """moto's server in this process, with databot's resources; their settings go into
    os.environ so every client built from here on uses them."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        raise SystemExit(
            "databot dev: JOBS_QUEUE_URL is not set and moto is not installed "
            "(pip install -e '.[dev]', or point JOBS_QUEUE_URL and the tables at AWS)"
        ) from None
    from executor.local_aws import create_stack

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    os.environ.update(create_stack(endpoint).env)
    return endpoint
