"""The `databot` command line: every subcommand of DESIGN.md, and a fast --help."""

import json
import subprocess
import sys

import pytest

from executor.cli import COMMANDS, build_parser, main

HEAVY = ("pandas", "numpy", "matplotlib", "duckdb", "redshift_connector", "sklearn", "boto3",
         "slack_sdk")


def test_every_documented_subcommand_is_registered() -> None:
    assert set(COMMANDS) == {"ask", "sql", "python", "worker", "dev", "sign-event", "feedback",
                             "eval", "sign-activity", "verified", "usage"}
    parser = build_parser()
    for name in COMMANDS:
        with pytest.raises(SystemExit) as done:
            parser.parse_args([name, "--help"])
        assert done.value.code == 0


def test_a_missing_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main([])
    assert done.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


def test_help_lists_every_command_and_an_unknown_one_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # WHEN databot --help runs THEN every command is listed with what it does
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    listed = capsys.readouterr().out.split("commands:\n", 1)[1]
    assert [line.split()[0] for line in listed.splitlines()] == list(COMMANDS)
    assert COMMANDS["usage"][1] in listed
    # WHEN a command that does not exist is asked for THEN a usage error names the choices
    with pytest.raises(SystemExit) as done:
        main(["frobnicate", "--help"])
    assert done.value.code == 2
    assert "unknown command 'frobnicate'; choose from ask, sql," in capsys.readouterr().err


def test_help_imports_nothing_heavy() -> None:
    # GIVEN a fresh interpreter WHEN the whole parser is built THEN no heavy library loaded
    script = (
        "import json, sys\n"
        "from executor.cli import build_parser\n"
        "build_parser()\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)
    assert json.loads(done.stdout) == []


def test_worker_concurrency_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args(["worker", "--concurrency", "0"])
    assert done.value.code == 2
    assert "--concurrency: must be a whole number >= 1, got '0'" in capsys.readouterr().err


def test_a_run_imports_only_the_module_of_its_command() -> None:
    # GIVEN a fresh interpreter WHEN databot --help and databot sql --help run
    script = (
        "import contextlib, io, json, sys\n"
        "from executor.cli import main\n"
        "loaded = {}\n"
        "for argv in (['--help'], ['sql', '--help']):\n"
        "    try:\n"
        "        with contextlib.redirect_stdout(io.StringIO()):\n"
        "            main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "    loaded[argv[0]] = sorted(\n"
        "        m for m in sys.modules if m.startswith('executor.commands.'))\n"
        "print(json.dumps(loaded))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)
    # THEN --help imported no command module, and sql only its own
    assert json.loads(done.stdout) == {"--help": [], "sql": ["executor.commands.sql"]}


def test_version_is_read_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("databot ")
