"""The worker image without a Docker engine: the Dockerfile's shape, the requirement pins, and
(slow) those requirements installed offline in a clean virtual environment, where every
module imports and `databot worker --help` runs."""

from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path

import pytest
from cfnlint.decode import decode
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.clean_venv import CleanVenv
from tests.support.paths import REPO


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = (REPO / dockerfile).read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip())
        for line in joined.splitlines()
        if line.strip()
    ]


def pins(path: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in (REPO / path).read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            (specifier,) = requirement.specifier
            assert specifier.operator == "==", f"{path}: {line} is not pinned"
            found[canonicalize_name(requirement.name)] = specifier.version
    return found


def test_worker_requirements_pin_exactly_the_project_dependencies() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared: dict[str, Requirement] = {
        canonicalize_name(Requirement(d).name): Requirement(d) for d in project["dependencies"]
    }
    pinned = pins("requirements/worker.txt")
    assert set(pinned) == set(declared), "requirements/worker.txt and pyproject.toml disagree"
    for name, version in pinned.items():
        assert declared[name].specifier.contains(version), f"{name}=={version} vs {declared[name]}"


def test_sandbox_requirements_use_the_worker_pins() -> None:
    worker, sandbox = pins("requirements/worker.txt"), pins("requirements/sandbox.txt")
    for name in set(worker) & set(sandbox):
        assert sandbox[name] == worker[name], name
    assert {"pandas", "numpy", "scikit-learn", "pyarrow", "matplotlib"} <= set(sandbox)


def test_worker_image_runs_the_tested_python_as_a_non_root_user() -> None:
    steps = instructions("Dockerfile")
    assert steps[0][0] == "FROM"
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert re.fullmatch(rf"python:{re.escape(version)}-slim(-\w+)?", steps[0][1])
    kinds = [kind for kind, _ in steps]
    user = steps[kinds.index("USER")][1]
    assert user not in ("root", "0") and not user.startswith("0:")
    assert kinds.index("USER") > max(i for i, kind in enumerate(kinds) if kind == "RUN")
    # The worker by default; the command alone is overridden to run another databot command.
    assert json.loads(dict(steps)["ENTRYPOINT"]) == ["databot"]
    assert json.loads(dict(steps)["CMD"]) == ["worker"]
    assert not any(
        kind == "ENV" and re.search(r"TOKEN|SECRET|PASSWORD", args) for kind, args in steps
    )


def test_dependencies_install_before_the_code_is_copied() -> None:
    steps = instructions("Dockerfile")
    installs = [
        i for i, (k, a) in enumerate(steps) if k == "RUN" and "requirements/worker.txt" in a
    ]
    code = [i for i, (k, a) in enumerate(steps) if k == "COPY" and a.split()[0] == "executor"]
    assert installs and code and installs[0] < code[0]


def test_image_health_check_is_the_task_definitions() -> None:
    healthcheck = dict(instructions("Dockerfile"))["HEALTHCHECK"]
    command = json.loads(healthcheck.split(" CMD ", 1)[1])
    template, _ = decode(str(REPO / "template.yaml"))
    assert template is not None
    task = template["Resources"]["WorkerTaskDefinition"]["Properties"]
    (container,) = task["ContainerDefinitions"]
    assert ["CMD", *command] == container["HealthCheck"]["Command"]
    assert "--start-period=60s" in healthcheck and container["HealthCheck"]["StartPeriod"] == 60


def test_dockerignore_lets_in_what_the_images_copy_and_nothing_local() -> None:
    rules = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert rules[0] == "*", "ignore everything, then let in what the images need"
    allowed = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}
    for dockerfile in ("Dockerfile", "sandbox.Dockerfile"):
        for kind, args in instructions(dockerfile):
            if kind == "COPY":
                for source in args.split()[:-1]:
                    assert (REPO / source).exists(), f"{dockerfile}: {source} is missing"
                    assert source.split("/")[0] in allowed, f"{dockerfile}: {source} is ignored"
    assert not allowed & {".venv", ".git", "results", "tests", ".wheelhouse", ".aws-sam"}


def test_the_moto_harness_is_not_in_the_images_or_the_packages() -> None:
    # GIVEN the development harness that stands in for AWS (databot dev, tests, benchmarks)
    harness = REPO / "tests" / "support" / "local_aws.py"
    assert harness.is_file()
    # THEN neither image copies it, and no runtime package holds a copy (the wheel's file
    # list is checked in test_packaging.py)
    for dockerfile in ("Dockerfile", "sandbox.Dockerfile"):
        copied = [
            REPO / source
            for kind, args in instructions(dockerfile)
            if kind == "COPY"
            for source in args.split()[:-1]
        ]
        assert not any(source == harness or source in harness.parents for source in copied)
    for package in ("bot", "handlers", "executor"):
        assert not list((REPO / package).rglob("local_aws.py")), package


def test_sandbox_image_is_a_lambda_image_running_the_sandbox_handler() -> None:
    steps = dict(instructions("sandbox.Dockerfile"))
    assert steps["FROM"] == "public.ecr.aws/lambda/python:3.12"
    assert json.loads(steps["CMD"]) == ["handlers.python_sandbox.handler"]


@pytest.mark.slow
def test_worker_requirements_install_in_a_clean_venv_and_the_worker_runs(tmp_path: Path) -> None:
    venv = CleanVenv(tmp_path)
    # GIVEN the image's two install steps, done the same way (dependencies, then the code)
    venv.install("-r", str(REPO / "requirements/worker.txt"))
    venv.install("--no-deps", "--editable", str(REPO))
    venv.run("python", "-m", "pip", "check")
    # THEN every module of the code imports with only those dependencies
    venv.run("python", "-c", IMPORT_EVERYTHING)
    # AND the entry point runs
    assert "usage: databot worker" in venv.run("databot", "worker", "--help").stdout


@pytest.mark.slow
def test_sandbox_requirements_carry_the_sandbox_function(tmp_path: Path) -> None:
    venv = CleanVenv(tmp_path)
    venv.install("-r", str(REPO / "requirements/sandbox.txt"))
    # The image copies bot/, executor/ and handlers/ beside the libraries; PYTHONPATH does here.
    venv.run("python", "-c", IMPORT_SANDBOX, PYTHONPATH=str(REPO))


IMPORT_EVERYTHING = """
import importlib, pkgutil
for package in ("bot", "handlers", "executor"):
    root = importlib.import_module(package)
    for module in pkgutil.walk_packages(root.__path__, package + "."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
"""
IMPORT_SANDBOX = """
import handlers.python_sandbox, executor.sandbox.local, executor.sandbox.bootstrap
import pandas, numpy, sklearn, matplotlib, pyarrow, joblib
"""
