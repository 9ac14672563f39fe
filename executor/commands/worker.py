"""`databot worker` (and `python -m executor`): the SQS worker the Fargate task runs."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from executor.worker.app import add_worker_arguments

    add_worker_arguments(parser)
    parser.add_argument("--health-port", type=int, help="port of GET /health (HEALTH_PORT)")


def run(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError

    from executor.settings import Settings
    from executor.worker.app import slack_token, worker_from_env
    from executor.worker.health import HealthServer

    try:
        token = slack_token(Settings.from_env())
        worker = worker_from_env(args, token, health_port=args.health_port)
    # Settings errors of every part (worker, engine, warehouse) are ValueErrors.
    except (ValueError, BotoCoreError) as e:
        print(f"databot worker: {e}", file=sys.stderr)
        return 2

    def on_signal(signum: int, frame: FrameType | None) -> None:
        worker.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    health = HealthServer(worker.config.health_port, worker.health)
    health.start()
    # The loop runs in a thread so the main thread stays free to take signals.
    loop = threading.Thread(target=worker.run, name="poll")
    loop.start()
    while loop.is_alive():
        loop.join(timeout=0.5)
    health.stop()
    return 0
