"""`databot dev`: the Slack app over Socket Mode plus an in-process worker, for local work
against a real workspace. No public URL and no AWS account are needed: without
JOBS_QUEUE_URL, moto's server (a dev dependency, run from a checkout) runs in-process and
provides the queue, tables and bucket, exactly as the deployed stack would.

Needs SLACK_BOT_TOKEN (xoxb-) and SLACK_APP_TOKEN (xapp-, with connections:write).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

from executor.commands.worker import add_worker_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_worker_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError

    from bot.config import ConfigError, Env
    from bot.ingress.local import slack_socket_mode
    from executor.worker.app import configure_worker, with_options
    from executor.worker.config import WorkerSettings

    env = Env()
    try:
        serve_slack = slack_socket_mode(env)
        settings = WorkerSettings.from_env(env)
        if not settings.jobs.queue_url:
            endpoint = _start_local_aws()
            print(f"databot dev: local AWS (moto) at {endpoint}")
            settings = WorkerSettings.from_env(env)  # now with the local queue and tables
        worker = configure_worker(with_options(settings, args), args.engine)
    except (ConfigError, BotoCoreError) as e:
        print(f"databot dev: {e}", file=sys.stderr)
        return 2

    loop = threading.Thread(target=worker.run, name="poll", daemon=True)
    loop.start()
    print("databot dev: connected over Socket Mode; mention the bot or use /ask (Ctrl-C stops)")
    try:
        serve_slack()
    except KeyboardInterrupt:
        pass
    finally:
        worker.stop()
        loop.join(timeout=worker.config.grace_s)
    return 0


def _start_local_aws() -> str:
    """moto's server in this process, with databot's resources; their settings go into
    os.environ so every client built from here on uses them. It runs until the process
    exits. The harness is development support kept in the checkout beside the tests
    (tests/support/local_aws.py), not in the installed package."""
    checkout = Path(__file__).resolve().parents[2]
    if not (checkout / "tests" / "support" / "local_aws.py").is_file():
        raise SystemExit(
            "databot dev: JOBS_QUEUE_URL is not set, and local AWS (moto) runs only from a "
            "checkout of the repository; point JOBS_QUEUE_URL and the tables at AWS"
        )
    sys.path.insert(0, str(checkout))
    try:
        from tests.support.local_aws import create_stack, start_moto_server

        endpoint, _ = start_moto_server()
    except ImportError:
        raise SystemExit(
            "databot dev: JOBS_QUEUE_URL is not set and moto is not installed "
            "(make test installs it, or point JOBS_QUEUE_URL and the tables at AWS)"
        ) from None
    os.environ.update(local_aws_settings(create_stack(endpoint).env, os.environ))
    return endpoint


# Where the local resources live; every other service (Bedrock) stays AWS's own.
LOCAL_SERVICES = ("SQS", "DYNAMODB", "S3")
CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
REGIONS = ("AWS_REGION", "AWS_DEFAULT_REGION")


def local_aws_settings(stack: Mapping[str, str], environ: Mapping[str, str]) -> dict[str, str]:
    """The local stack's settings (`stack`), confined to its queue, tables and bucket: each
    of those services gets its own endpoint, so Bedrock is still reached with the
    developer's own credentials and region (which moto accepts too). Without credentials,
    moto's placeholders fill in and no model is used (MODEL_PROVIDER=offline unless set):
    Bedrock with placeholder keys could only fail."""
    from bot.config import Env
    from executor.config import aws_credentials_visible

    settings = dict(stack)
    endpoint = settings.pop("AWS_ENDPOINT_URL")
    settings |= {f"AWS_ENDPOINT_URL_{service}": endpoint for service in LOCAL_SERVICES}
    credentials = aws_credentials_visible(Env(environ))
    own = (CREDENTIALS if credentials else ()) + (
        REGIONS if any(environ.get(name) for name in REGIONS) else ()
    )
    settings = {name: value for name, value in settings.items() if name not in own}
    if not credentials:
        settings["MODEL_PROVIDER"] = environ.get("MODEL_PROVIDER") or "offline"
    return settings
