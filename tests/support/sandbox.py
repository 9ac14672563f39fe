"""What a model writes for the sandbox's acceptance cases and the machine-learning case,
shared by the sandbox, tool, command and agent tests, plus a tool context over the sample data,
a folder of secrets outside the sandbox for the tests that try to reach it, and the two ways
the local sandbox starts a run (cold and warm) for the tests that must hold on both."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest

from executor.artifacts import open_artifact_store
from executor.config import ArtifactsConfig, SandboxConfig, WarehouseConfig
from executor.sandbox import Limits, SandboxResult
from executor.sandbox.local import LocalSandbox
from executor.sandbox.warm import Template
from executor.tools.base import ToolContext
from executor.warehouse.base import Warehouse
from executor.warehouse.factory import open_warehouse
from tests.support.paths import REPO

# Question → (the code a model writes, what it prints).
ACCEPTANCE: dict[str, tuple[str, str]] = {
    "What's 25 * 47?": ("result = 25 * 47\nprint(result)", "1175"),
    "Calculate 15% of 2847": ("result = round(0.15 * 2847, 2)\nprint(result)", "427.05"),
    "Sum of the first 10 prime numbers": (
        "primes = []\nn = 2\n"
        "while len(primes) < 10:\n"
        "    if all(n % p for p in primes):\n"
        "        primes.append(n)\n"
        "    n += 1\n"
        "result = sum(primes)\nprint(result)",
        "129",
    ),
    "Fibonacci sequence up to 100": (
        "a, b = 0, 1\nseq = []\n"
        "while a <= 100:\n"
        "    seq.append(a)\n"
        "    a, b = b, a + b\n"
        "print(' '.join(map(str, seq)))",
        "0 1 1 2 3 5 8 13 21 34 55 89",
    ),
}
DIVIDE_BY_ZERO = "print(10 / 0)"

# "Make a machine-learning model from the interactions table": per-user engagement from
# the interactions table (and the user's plan and channel) → did the user churn.
EXAMPLES = REPO / "examples" / "sandbox"
ML_FEATURES_SQL = (EXAMPLES / "churn_features.sql").read_text(encoding="utf-8")
ML_TRAIN_CODE = (EXAMPLES / "churn_model.py").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def sample_warehouse() -> Iterator[Warehouse]:
    """DuckDB over the repository's input/ sample data."""
    warehouse = open_warehouse(WarehouseConfig())
    yield warehouse
    warehouse.close()


@pytest.fixture(scope="session")
def warm_template() -> Iterator[Template]:
    """One warm template for the session: starting one takes seconds."""
    template = Template()
    yield template
    template.close()


@pytest.fixture(params=["cold", "warm"])
def template(request: pytest.FixtureRequest) -> Template | None:
    """How runs start: None for a fresh interpreter per run, or the session's template."""
    if request.param == "warm":
        warm: Template = request.getfixturevalue("warm_template")
        return warm
    return None


class RunCode(Protocol):
    def __call__(
        self, code: str, inputs: Mapping[str, bytes] | None = None, limits: Limits | None = None
    ) -> SandboxResult: ...


@pytest.fixture
def run_code(template: Template | None) -> RunCode:
    """executor.sandbox.run, started cold and warm in turn."""

    def run_code(
        code: str, inputs: Mapping[str, bytes] | None = None, limits: Limits | None = None
    ) -> SandboxResult:
        return LocalSandbox(limits, template=template).run(code, inputs or {})

    return run_code


@pytest.fixture
def tool_context(
    sample_warehouse: Warehouse, tmp_path: Path, warm_template: Template
) -> ToolContext:
    """The tools' context, its sandbox as the agent's by default: warm."""
    return ToolContext(
        job_id="J1",
        warehouse=sample_warehouse,
        artifacts=open_artifact_store(ArtifactsConfig(results_dir=tmp_path / "results")),
        progress=lambda stage: None,
        sandbox=LocalSandbox(SandboxConfig().limits, template=warm_template),
    )


@dataclass(frozen=True)
class Outside:
    """A folder outside any scratch folder, holding a secret in every shape collection reads:
    a text file, a PNG, a figures folder and a crafted envelope."""

    path: Path
    secret: str

    def leaked_into(self, result: SandboxResult) -> list[str]:
        """Where the secret (or the outside folder's listing) shows up in a result."""
        token = self.secret.encode()
        found = [f.name for f in [*result.figures, *result.files] if token in f.data]
        found += [f.name for f in [*result.figures, *result.files] if "secret" in f.name]
        text = {"stdout": result.stdout, "stderr": result.stderr, "notes": result.notes}
        text["result"] = json.dumps(result.result)
        found += [field for field, value in text.items() if self.secret in str(value)]
        return found


@pytest.fixture
def outside(tmp_path: Path) -> Outside:
    secret = "s3cr3t-" + uuid.uuid4().hex
    folder = tmp_path / "outside"
    (folder / "figures").mkdir(parents=True)
    (folder / "secret.txt").write_text(secret)
    (folder / "secret.png").write_bytes(b"\x89PNG " + secret.encode())
    (folder / "figures" / "secret.png").write_bytes(b"\x89PNG " + secret.encode())
    (folder / "envelope.json").write_text(json.dumps({"result": secret, "notes": [secret]}))
    return Outside(folder, secret)


def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    """Whether condition() became true within `seconds`, checked every 50 ms."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False
