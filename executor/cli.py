"""`databot` — the command line. Each subcommand lives in executor/commands/<name>.py with
`add_arguments(parser)` and `run(args) -> int`; those modules import heavy libraries inside
`run`. A run imports only the module of the command it runs (`databot --help` none, nor
`typing`), so the command line starts as fast as Python does."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Collection, Sequence

COMMANDS: dict[str, tuple[str, str]] = {
    "ask": ("executor.commands.ask", "answer a question on the configured warehouse"),
    "sql": ("executor.commands.sql", "run SQL through the guarded path the agent uses"),
    "python": ("executor.commands.python", "run a Python file in the sandbox"),
    "worker": ("executor.commands.worker", "run the SQS worker (the Fargate task)"),
    "dev": ("executor.commands.dev", "Slack app + in-process worker over Socket Mode"),
    "feedback": ("executor.commands.feedback", "recent votes on answers, by entry and model"),
    "usage": ("executor.commands.usage",
              "model spend, tokens, answers and verified-hit rate per person, channel or day"),
    "eval": ("executor.commands.eval", "score the engine on a golden question set"),
    "verified": ("executor.commands.verified",
                 "check verified queries for drift; list, export and retire entries"),
    "sign-event": ("executor.commands.sign_event", "sign a sample event for sam local invoke"),
    "sign-activity": ("executor.commands.sign_activity",
                      "sign a sample Teams activity with a local test key"),
}


class _Version(argparse.Action):
    """--version, reading the installed version only when asked (package metadata is slow
    to load)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        from importlib.metadata import version

        print(f"{parser.prog} {version('databot')}")
        parser.exit()


def build_parser(commands: Collection[str] | None = None) -> argparse.ArgumentParser:
    """The parser; only `commands` (default: all) get a sub-parser with their arguments, and
    their modules imported. Every command is listed in the help, from COMMANDS alone."""
    parser = argparse.ArgumentParser(
        prog="databot", description="A data assistant for Slack.", epilog=_command_list(),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                help="one of the commands below")
    for name, (module_name, help_text) in COMMANDS.items():
        if commands is None or name in commands:
            module = importlib.import_module(module_name)
            command = sub.add_parser(name, description=help_text)
            module.add_arguments(command)
            command.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # The command is the first word that is not an option: databot takes none with a value.
    chosen = next((word for word in argv if not word.startswith("-")), None)
    parser = build_parser([chosen] if chosen else [])
    if chosen is not None and chosen not in COMMANDS:
        parser.error(f"unknown command {chosen!r}; choose from {', '.join(COMMANDS)}")
    args = parser.parse_args(argv)
    return int(args.run(args))


def _command_list() -> str:
    width = max(map(len, COMMANDS))
    return "commands:\n" + "\n".join(
        f"  {name:<{width}}  {help_text}" for name, (_, help_text) in COMMANDS.items())
