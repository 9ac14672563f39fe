"""bot/'s root holds the platform-neutral contracts: none of its modules imports a chat
platform's package when it is loaded (bot.delivery's registry imports one only inside
`open_channels`, when a process builds its channels). The Teams front door's modules stay
as light: no chat SDK, no web client library, nothing of the worker's."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import REPO

PLATFORMS = ("bot.slack", "bot.teams", "slack_sdk", "slack_bolt")
CONTRACTS = sorted((REPO / "bot").glob("*.py"))
TEAMS_FRONT_DOOR = [REPO / "bot" / "teams" / f"{name}.py"
                    for name in ("__init__", "config", "auth", "activities", "ingress")]
TOO_HEAVY_FOR_THE_FRONT_DOOR = (
    "bot.slack", "slack_sdk", "slack_bolt", "microsoft", "botbuilder", "requests", "httpx",
    "aiohttp", "pandas", "numpy", "matplotlib", "duckdb", "redshift_connector", "sklearn",
    "bot.teams.connector", "bot.teams.cards", "bot.teams.outbox", "bot.teams.local_keys",
)


def loaded_imports(path: Path) -> list[str]:
    """What `path` imports when it is loaded: every import outside a function's body and
    outside `if TYPE_CHECKING:` (read by the type checker only)."""
    found: list[str] = []
    pending: list[ast.AST] = [ast.parse(path.read_text(), str(path))]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            pending.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found += [f"{node.module}.{alias.name}" for alias in node.names]
        pending.extend(ast.iter_child_nodes(node))
    return found


def printed(code: str) -> list[str]:
    """What `code` prints in a fresh interpreter, its log lines (JSON) left out."""
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, check=True).stdout
    return [line for line in out.splitlines() if not line.startswith("{")]


@pytest.mark.parametrize("path", CONTRACTS, ids=lambda p: p.name)
def test_no_contract_module_loads_a_chat_platform(path: Path) -> None:
    assert [name for name in loaded_imports(path) if name.startswith(PLATFORMS)] == []


@pytest.mark.parametrize("path", TEAMS_FRONT_DOOR, ids=lambda p: p.name)
def test_the_teams_front_door_loads_no_sdk_and_no_worker_library(path: Path) -> None:
    loaded = loaded_imports(path)
    assert [name for name in loaded if name.startswith(TOO_HEAVY_FOR_THE_FRONT_DOOR)] == []


def test_slack_is_loaded_only_when_a_process_opens_its_channels() -> None:
    # GIVEN a fresh interpreter that loads the contracts, then opens Slack's channel
    code = """
import sys
import bot.dead_letters, bot.delivery, bot.job_store, bot.render_terminal
from bot.config import Env
def slack(): return sorted(m for m in sys.modules if m.startswith(("bot.slack", "slack_")))
print(slack())
env = Env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_API_URL": "http://127.0.0.1:9/api/"})
bot.delivery.open_channels(bot.delivery.ChannelsConfig.from_env(env))
print("bot.slack.outbox" in slack())
"""
    out = printed(code)
    # THEN Slack's package came in with the channels, not with the contracts
    assert out == ["[]", "True"]


def test_teams_is_loaded_only_when_a_process_opens_its_channels() -> None:
    # GIVEN a fresh interpreter that loads the contracts, then opens Teams' channel
    code = """
import sys
import bot.dead_letters, bot.delivery, bot.job_store, bot.render_terminal
from bot.config import Env
def teams(): return sorted(m for m in sys.modules
                           if m.startswith(("bot.teams.outbox", "microsoft_teams", "pydantic")))
print(teams())
env = Env({"TEAMS_APP_ID": "app", "TEAMS_APP_PASSWORD": "p"})
bot.delivery.open_channels(bot.delivery.ChannelsConfig.from_env(env))
print(teams())
"""
    # THEN Teams' delivery came in with the channels, and its card library (which the
    # dead-letter notifier's Lambda lacks) did not: only rendering an answer loads it
    assert printed(code) == ["[]", "['bot.teams.outbox']"]
