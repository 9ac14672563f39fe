"""executor/ reaches chat platforms only through bot.delivery (and the CLI's local doors
through bot.ingress.local): no module of it imports a platform's package, even lazily,
or names one for loading by string."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import REPO

PLATFORMS = ("bot.slack", "bot.teams")
MODULES = sorted((REPO / "executor").rglob("*.py"))


def platform_names(path: Path) -> list[str]:
    """Platform packages `path` imports anywhere in it, or names in a string."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names = [node.value]
        else:
            continue
        found += [name for name in names if name.startswith(PLATFORMS)]
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_executor_module_imports_a_chat_platform(path: Path) -> None:
    assert platform_names(path) == []


def test_the_check_sees_every_kind_of_import(tmp_path: Path) -> None:
    # GIVEN a module reaching Slack in each way the check must see
    module = tmp_path / "reaching.py"
    module.write_text(
        "import bot.slack.app\n"
        "from bot.slack.replier import SlackReplier\n"
        "from bot import slack\n"
        "def later():\n"
        "    from bot.teams.outbox import TeamsChannel\n"
        "NAME = 'bot.slack.signing'\n"
    )
    # WHEN it is checked THEN each is found
    assert platform_names(module) == ["bot.slack.app", "bot.slack.replier.SlackReplier",
                                      "bot.slack", "bot.teams.outbox.TeamsChannel",
                                      "bot.slack.signing"]


def test_building_the_worker_and_the_cli_loads_no_chat_platform() -> None:
    # GIVEN a fresh interpreter WHEN the worker's and the CLI's modules are imported
    code = ("import sys, executor.worker.app, executor.cli; "
            "executor.cli.build_parser(); "
            "print(sorted(m for m in sys.modules if m.startswith(('bot.slack', 'slack_'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, check=True).stdout
    # THEN no platform package was loaded
    assert out.strip() == "[]"
