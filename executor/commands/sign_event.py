"""`databot sign-event EVENT.json`: print a sample Lambda event with a fresh Slack signature.

    databot sign-event events/app_mention.json | sam local invoke SlackEventsFunction -e -

The secret is SLACK_SIGNING_SECRET, read from the environment (never a command-line
argument, so it stays out of shell history and process lists). `-` reads the event from
stdin. Exit codes: 0 printed; 2 no secret, or the event is not a readable JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("event", help="an API Gateway / Function URL event file, or - for stdin")
    parser.add_argument(
        "--timestamp",
        type=int,
        metavar="EPOCH",
        help="sign as of this Unix time instead of now (e.g. to try a stale signature)",
    )


def run(args: argparse.Namespace) -> int:
    from bot.config import Env
    from bot.ingress.local import sign_slack_event, slack_signing_secret

    secret = slack_signing_secret(Env())
    if not secret:
        print("databot sign-event: SLACK_SIGNING_SECRET is not set", file=sys.stderr)
        return 2
    try:
        text = sys.stdin.read() if args.event == "-" else Path(args.event).read_text()
        event = json.loads(text)
    except (OSError, ValueError) as e:
        print(f"databot sign-event: cannot read {args.event}: {e}", file=sys.stderr)
        return 2
    if not isinstance(event, dict):
        print(f"databot sign-event: {args.event} is not a JSON object", file=sys.stderr)
        return 2
    try:
        signed = sign_slack_event(event, secret, args.timestamp)
    except ValueError as e:
        print(f"databot sign-event: cannot sign {args.event}: {e}", file=sys.stderr)
        return 2
    print(json.dumps(signed, indent=2))
    return 0
