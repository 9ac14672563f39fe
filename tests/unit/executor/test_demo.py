"""`make demo`: three sample questions answered on the embedded defaults, exit 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from executor import demo
from tests.support.paths import REPO

CREDENTIALS = (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE", "MODEL_PROVIDER", "WAREHOUSE_URL", "RESULTS_BUCKET",
)  # fmt: skip


def test_demo_answers_every_sample_question(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a machine with no AWS credentials
    for name in CREDENTIALS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RESULTS_DIR", str(tmp_path))
    # WHEN the demo runs
    code = demo.main()
    # THEN each question is answered with its SQL, table and chart or CSV path, and it exits 0
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("databot demo · warehouse duckdb://") and "engine offline" in out
    for question in demo.QUESTIONS:
        assert f"$ databot ask {question!r}" in out
    assert out.count("\nSQL\n") == out.count("verified query · 0 in / 0 out tokens") == 3
    assert out.count("\n  result.csv: ") == 3 and out.count("\n  Revenue by plan (USD): ") == 1
    assert f"{len(demo.QUESTIONS)} of {len(demo.QUESTIONS)} answered" in out
    assert len(list(tmp_path.glob("*/result.csv"))) == 3


def test_demo_hides_credentials_in_the_warehouse_url() -> None:
    assert demo._safe_url("redshift://admin:pw@host:5439/dev") == "redshift://host:5439/dev"
    assert demo._safe_url("duckdb:///data") == "duckdb:///data"


def test_make_demo_command_runs(tmp_path: Path) -> None:
    # `make demo` runs exactly this module in a fresh process
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIALS}
    env["RESULTS_DIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "executor.demo"], cwd=REPO, env=env,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "3 of 3 answered" in done.stdout and done.stderr == ""
    assert '"level"' not in done.stdout  # the service's logs stay out of what it prints
