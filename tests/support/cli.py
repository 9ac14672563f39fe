"""`databot` run as a user runs it: a fresh interpreter with only the environment given,
reporting on stderr which of the worker's heavy libraries it loaded ("HEAVY: " and their
names; nothing after the colon when none was)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.paths import REPO

HEAVY_MODULES = ("pandas", "numpy", "matplotlib", "duckdb", "redshift_connector", "sklearn")

RUN_CLI = """
import sys
from executor.cli import main
code = main(sys.argv[1:])
heavy = [name for name in {heavy!r} if name in sys.modules]
print("HEAVY:", ",".join(heavy), file=sys.stderr)
sys.exit(code)
"""


def run_databot(*args: str, env: dict[str, str], stdin: str = ""
                ) -> subprocess.CompletedProcess[str]:
    """`databot ARGS` with `env` (and PATH) as its whole environment."""
    return subprocess.run(
        [sys.executable, "-c", RUN_CLI.format(heavy=HEAVY_MODULES), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PATH": os.environ.get("PATH", ""), **env},
        timeout=60,
    )
