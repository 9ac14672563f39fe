"""A fresh virtual environment that installs only from the wheelhouse, for the slow tests
of what the images and a `pip install .` hold."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import REPO

# Filled by `make test` (pip download of requirements/worker.txt), so the install is offline.
WHEELHOUSE = REPO / ".wheelhouse"
OFFLINE = ("--no-index", "--find-links", str(WHEELHOUSE), "--quiet", "--no-compile")
# What a source distribution of the project holds.
SOURCES = ("pyproject.toml", "setup.py", "README.md", "bot", "handlers", "executor", "input")


class CleanVenv:
    """A fresh virtual environment that installs only from the wheelhouse (no network) and
    runs commands with a minimal environment (no credentials, no project venv)."""

    def __init__(self, folder: Path) -> None:
        if not (WHEELHOUSE / ".complete").exists():
            pytest.skip("no .wheelhouse: `make test` downloads the image wheels once")
        self.folder = folder
        self.bin = folder / "venv" / "bin"
        subprocess.run([sys.executable, "-m", "venv", str(folder / "venv")], check=True)
        self.env = {"PATH": f"{self.bin}:/usr/bin:/bin", "HOME": str(folder), "PIP_NO_INPUT": "1"}

    def install(self, *args: str) -> None:
        self.run("python", "-m", "pip", "install", *OFFLINE, *args)

    def build_wheel(self) -> Path:
        """The project's wheel, built offline as `pip install .` builds it, from a copy of
        the sources (a build leaves build/ and egg-info behind)."""
        source = self.folder / "source"
        source.mkdir()
        for name in SOURCES:
            if (REPO / name).is_dir():
                skip = shutil.ignore_patterns("__pycache__")
                shutil.copytree(REPO / name, source / name, ignore=skip)
            else:
                shutil.copy(REPO / name, source / name)
        wheels = self.folder / "dist"
        offline = OFFLINE[:-1]  # pip wheel has no --no-compile
        self.run("python", "-m", "pip", "wheel", *offline, "--no-deps", "-w", str(wheels),
                 str(source))
        (wheel,) = wheels.glob("databot-*.whl")
        return wheel

    def run(self, program: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / program), *args]
        done = subprocess.run(
            command, env={**self.env, **env}, cwd=self.folder, capture_output=True, text=True
        )
        assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout}\n{done.stderr}"
        return done
