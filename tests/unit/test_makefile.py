"""The Makefile's two entry points on a fresh clone: `make demo` installs the package and its
runtime dependencies only (quick), `make test` adds the dev extras; and the targets `sam build`
runs for the ingress Lambdas."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.paths import REPO


def planned(target: str, venv: Path, *variables: str) -> list[str]:
    """The commands `make TARGET` would run for a virtual environment not yet created."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    # Run inside `make test`, a sub-make would inherit its flags and print its directory.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", target, f"VENV={venv}", *variables],
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


def makefile_built_functions() -> list[str]:
    from cfnlint.decode import decode

    template, problems = decode(str(REPO / "template.yaml"))
    assert not problems and template is not None, problems
    return sorted(
        name for name, resource in template["Resources"].items()
        if resource.get("Metadata", {}).get("BuildMethod") == "makefile"
    )


@pytest.mark.parametrize("function", makefile_built_functions())
def test_ingress_functions_build_with_pip_alone(function: str, tmp_path: Path) -> None:
    # GIVEN a function `sam build FUNCTION` builds through the Makefile (no Docker involved)
    assert function in {"SlackEventsFunction", "PromptApiFunction", "DlqNotifierFunction",
                        "TeamsMessagesFunction"}
    # (the Teams front door has its own, smaller requirements: no Slack SDK)
    requirements = ("handlers/teams_requirements.txt" if function == "TeamsMessagesFunction"
                    else "handlers/requirements.txt")
    # WHEN sam runs its target
    lines = planned(f"build-{function}", tmp_path / "venv", f"ARTIFACTS_DIR={tmp_path}/out")
    commands = "\n".join(lines).replace("\\\n", " ").splitlines()  # continuation lines joined
    # THEN it installs the Lambda's Linux wheels with pip and copies bot/ and handlers/ only
    (pip,) = [command for command in commands if "pip install" in command]
    assert f"-r {requirements}" in pip and "--only-binary=:all:" in pip
    assert "--platform manylinux2014_x86_64" in pip and "--python-version 3.12" in pip
    assert any(c.startswith(f'cp -R bot handlers "{tmp_path}/out/"') for c in commands)
    assert not any("docker" in command for command in commands)
