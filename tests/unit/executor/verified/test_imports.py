"""The verified answerer stands on its own: it assembles answers through executor.assembly and
never reaches into the agent or its tools, so the offline path works without either."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.support.paths import REPO

VERIFIED = REPO / "executor" / "verified"
FORBIDDEN = ("executor.tools", "executor.agent")


def imported_modules(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_verified_module_imports_the_agent_or_its_tools() -> None:
    # GIVEN every module of executor/verified, imports inside functions included
    offenders = {
        f"{path.name}: {name}"
        for path in sorted(VERIFIED.glob("*.py"))
        for name in imported_modules(path.read_text(encoding="utf-8"))
        if name.startswith(FORBIDDEN)
    }
    # THEN none names executor.tools or executor.agent
    assert offenders == set()


def test_loading_the_answerer_loads_neither_the_agent_nor_its_tools() -> None:
    # GIVEN a fresh interpreter WHEN the verified answerer is imported
    code = (
        "import sys, executor.verified.answerer; "
        f"print(sorted(m for m in sys.modules if m.startswith({FORBIDDEN!r})))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                            text=True, cwd=REPO).stdout.strip()  # fmt: skip
    # THEN nothing of the agent or its tools came with it, not even indirectly
    assert loaded == "[]"
