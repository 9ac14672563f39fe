"""`pip install .`: the wheel carries the code and the sample data, and nothing of the
checkout's development support; installed, the CLI answers from the sample data."""

from __future__ import annotations

import tomllib
import zipfile
from pathlib import Path

import pytest

from executor.cli import main
from executor.sample_data_dir import sample_data_dir
from tests.support.clean_venv import CleanVenv
from tests.support.paths import REPO

SAMPLE_FILES = {"users.csv", "interactions.csv", "schema.yaml", "verified_queries.yaml",
                "eval/questions.yaml"}


def test_the_version_is_the_packages(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert capsys.readouterr().out.strip() == f"databot {declared}"


def test_a_checkout_reads_the_sample_data_in_input() -> None:
    assert sample_data_dir() == REPO / "input"


@pytest.mark.slow
def test_a_wheel_install_carries_and_finds_the_sample_data(tmp_path: Path) -> None:
    venv = CleanVenv(tmp_path)
    # GIVEN the wheel `pip install .` builds
    wheel = venv.build_wheel()
    names = set(zipfile.ZipFile(wheel).namelist())
    # THEN it holds the sample data under the package, and no tests or moto harness
    assert {f"executor/sample_data/{name}" for name in SAMPLE_FILES} <= names
    assert not [name for name in names if name.startswith(("tests/", "bench/", "input/"))]
    assert not [name for name in names if name.endswith("local_aws.py")]
    # WHEN it is installed (not editable) with the worker's dependencies, away from the repo
    venv.install("-r", str(REPO / "requirements/worker.txt"))
    venv.install("--no-deps", str(wheel))
    # THEN the CLI has its version and answers from the installed sample data
    assert venv.run("databot", "--version").stdout.strip().startswith("databot ")
    located = venv.run("python", "-c", LOCATE).stdout.strip()
    assert "site-packages" in located and REPO.as_posix() not in located
    result = venv.run("databot", "sql", "SELECT COUNT(*) AS n FROM users", MODEL_PROVIDER="offline")
    assert "n" in result.stdout


LOCATE = "from executor.sample_data_dir import sample_data_dir; print(sample_data_dir())"
