"""`databot worker` (and `python -m executor`): the SQS worker the Fargate task runs."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

DEFAULT_ENGINE = "executor.router:build_warm_engine"


def positive_int(value: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {value!r}")
    return number


def add_worker_arguments(parser: argparse.ArgumentParser) -> None:
    """The options `databot worker` and `databot dev` share. Here, not in executor.worker,
    so building the parser loads neither boto3 nor slack_sdk."""
    parser.add_argument(
        "--concurrency", type=positive_int, help="engines run at once (WORKER_CONCURRENCY)"
    )
    parser.add_argument(
        "--engine",
        default=DEFAULT_ENGINE,
        help=f"engine factory module:function taking an EngineConfig (default {DEFAULT_ENGINE})",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_worker_arguments(parser)
    parser.add_argument("--health-port", type=int, help="port of GET /health (HEALTH_PORT)")


def run(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from bot.config import Env
    from executor.errors import DatabotError
    from executor.worker.app import configure_worker, with_options
    from executor.worker.config import WorkerSettings
    from executor.worker.health import HealthServer

    try:
        settings = with_options(WorkerSettings.from_env(Env()), args,
                                health_port=args.health_port)
    except ValueError as e:  # ConfigError
        print(f"databot worker: {e}", file=sys.stderr)
        return 2
    port = settings.worker.health_port
    try:
        # Up first, answering 503 while the worker warms up: ECS sees a starting task.
        health = HealthServer(port)
    except OSError as e:
        print(f"databot worker: cannot serve /health on port {port}: {e.strerror or e}",
              file=sys.stderr)
        return 2
    health.start()
    try:
        worker = configure_worker(settings, args.engine)
    # ConfigError and the warehouse's own checks of WAREHOUSE_URL are ValueErrors; a
    # warehouse that cannot be reached (WarehouseError) or its secret read also stops it.
    except (ValueError, BotoCoreError, ClientError, DatabotError) as e:
        health.stop()
        print(f"databot worker: {e}", file=sys.stderr)
        return 2

    def on_signal(signum: int, frame: FrameType | None) -> None:
        worker.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    health.report(worker.health)
    # The loop runs in a thread so the main thread stays free to take signals.
    loop = threading.Thread(target=worker.run, name="poll")
    loop.start()
    while loop.is_alive():
        loop.join(timeout=0.5)
    health.stop()
    return 0
