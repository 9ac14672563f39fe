"""`databot` run as a user runs it: a fresh interpreter with only the environment given,
reporting on stderr which of the worker's heavy libraries it loaded ("HEAVY: " and their
names; nothing after the colon when none was)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

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
    """`databot ARGS` with `env` (and PATH) as its whole environment. Unless `env` names
    one, the results folder (answers' files, the audit trail, the spend ledger) is a
    temporary one, gone after the run, never the checkout's."""
    with tempfile.TemporaryDirectory(prefix="databot-cli-results-") as results:
        return subprocess.run(
            [sys.executable, "-c", RUN_CLI.format(heavy=HEAVY_MODULES), *args],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=REPO,
            env={"PATH": os.environ.get("PATH", ""), "RESULTS_DIR": results, **env},
            timeout=60,
        )


@pytest.fixture
def private_results_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """RESULTS_DIR for commands run in this process: the test's own folder, so their files,
    audit records and spend ledger never land in the checkout's results/."""
    results = tmp_path / "command-results"
    monkeypatch.setenv("RESULTS_DIR", str(results))
    return results
