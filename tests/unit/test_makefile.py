"""The Makefile's two entry points on a fresh clone: `make demo` installs the package and its
runtime dependencies only (quick), `make test` adds the dev extras."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.paths import REPO


def planned(target: str, venv: Path) -> list[str]:
    """The commands `make TARGET` would run for a virtual environment not yet created."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    # Run inside `make test`, a sub-make would inherit its flags and print its directory.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", target, f"VENV={venv}"],
        cwd=REPO, env=env, capture_output=True, text=True, check=True,
    )
    return done.stdout.splitlines()


def installs(commands: list[str]) -> list[str]:
    return [command for command in commands if "pip install" in command and "-e" in command]


def test_the_demo_installs_no_dev_extras(tmp_path: Path) -> None:
    commands = planned("demo", tmp_path / "venv")
    assert installs(commands) == [f"{tmp_path}/venv/bin/python -m pip install --quiet -e ."]
    assert commands[-1].endswith("-m executor.demo")


@pytest.mark.parametrize("target", ["lint", "typecheck", "test-repeat"])
def test_the_checks_install_the_dev_extras(target: str, tmp_path: Path) -> None:
    assert any("'.[dev]'" in command for command in installs(planned(target, tmp_path / "venv")))
