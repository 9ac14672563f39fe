"""`databot` — the command line. Each subcommand lives in executor/commands/<name>.py with
`add_arguments(parser)` and `run(args) -> int`; those modules import heavy libraries inside
`run`, so `databot --help` stays fast."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence
from importlib.metadata import version

COMMANDS: dict[str, tuple[str, str]] = {
    "ask": ("executor.commands.ask", "answer a question on the configured warehouse"),
    "sql": ("executor.commands.sql", "run SQL through the guarded path the agent uses"),
    "python": ("executor.commands.python", "run a Python file in the sandbox"),
    "worker": ("executor.commands.worker", "run the SQS worker (the Fargate task)"),
    "dev": ("executor.commands.dev", "Slack app + in-process worker over Socket Mode"),
    "feedback": ("executor.commands.feedback", "recent votes on answers, by entry and model"),
    "verified": ("executor.commands.verified",
                 "check verified queries for drift; list, export and retire entries"),
    "sign-event": ("executor.commands.sign_event", "sign a sample event for sam local invoke"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="databot", description="A data assistant for Slack.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {version('databot')}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        command = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args))
