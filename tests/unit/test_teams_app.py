"""The Teams app package: teams/manifest.json and its icons, and `make teams-app`, which
zips them with the bot's app id filled in."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from tests.support.paths import REPO

APP_ID = "00000000-0000-4000-8000-00000000b07d"
TEAMS = REPO / "teams"


def test_the_manifest_is_a_current_schema_bot_in_every_scope() -> None:
    manifest = json.loads((TEAMS / "manifest.json").read_text())

    assert manifest["manifestVersion"] == "1.22"
    assert manifest["$schema"].endswith("/v1.22/MicrosoftTeams.schema.json")
    (bot,) = manifest["bots"]
    assert sorted(bot["scopes"]) == ["groupChat", "personal", "team"]
    assert manifest["id"] == bot["botId"] == "${{TEAMS_APP_ID}}"
    assert len(manifest["name"]["short"]) <= 30
    assert len(manifest["description"]["short"]) <= 80


def test_the_icons_have_the_sizes_teams_requires() -> None:
    color = Image.open(TEAMS / "color.png")
    outline = Image.open(TEAMS / "outline.png").convert("RGBA")

    assert color.size == (192, 192)
    assert outline.size == (32, 32)
    # the outline icon is white on a transparent background, nothing else
    pixels = {outline.getpixel((x, y)) for x in range(32) for y in range(32)}
    assert pixels == {(0, 0, 0, 0), (255, 255, 255, 255)}


def make_teams_app(app_id: str, tree: Path) -> subprocess.CompletedProcess[str]:
    """`make teams-app` in a copy of the files it uses."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    for name in ("Makefile", "teams", "scripts"):
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy
        copy(REPO / name, tree / name)
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.run(["make", "--no-print-directory", "teams-app",
                           f"TEAMS_APP_ID={app_id}", f"PYTHON={sys.executable}"],
                          cwd=tree, env=env, capture_output=True, text=True, timeout=60)


def test_make_teams_app_zips_the_manifest_with_the_app_id_and_the_icons(
    tmp_path: Path,
) -> None:
    done = make_teams_app(APP_ID, tmp_path)

    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(tmp_path / "build" / "teams-app.zip") as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        assert package.read("color.png") == (TEAMS / "color.png").read_bytes()
    assert manifest["id"] == manifest["bots"][0]["botId"] == APP_ID


@pytest.mark.parametrize("app_id", ["", "databot", f"{APP_ID}x"])
def test_make_teams_app_needs_the_entra_app_id(app_id: str, tmp_path: Path) -> None:
    done = make_teams_app(app_id, tmp_path)

    assert done.returncode != 0
    assert "the app id must be the Entra app (client) id" in done.stderr
    assert not (tmp_path / "build" / "teams-app.zip").exists()
