"""Build the Teams app package to upload: `python scripts/teams_app.py teams build/teams-app.zip
--app-id <the Entra app id>` (`make teams-app TEAMS_APP_ID=...`).

The zip holds manifest.json, with every `${{TEAMS_APP_ID}}` replaced by the app id, and the
two icons it names, at its root as Teams requires. Exit codes: 0 built; 2 no valid app id
or a placeholder left unfilled.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import zipfile
from pathlib import Path

PLACEHOLDER = "${{TEAMS_APP_ID}}"
GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def build(folder: Path, target: Path, app_id: str) -> None:
    """Write the package of the app in `folder` to `target`. ValueError when `app_id` is
    not a GUID or the manifest has other placeholders."""
    if not GUID.fullmatch(app_id):
        raise ValueError(f"the app id must be the Entra app (client) id, a GUID; got {app_id!r}")
    manifest = (folder / "manifest.json").read_text().replace(PLACEHOLDER, app_id)
    if "${{" in manifest:
        raise ValueError("manifest.json has a placeholder other than " + PLACEHOLDER)
    icons = json.loads(manifest)["icons"]
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", manifest)
        for icon in (icons["color"], icons["outline"]):
            package.write(folder / icon, icon)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the app's folder (teams/)")
    parser.add_argument("target", type=Path, help="the zip to write")
    parser.add_argument("--app-id", default=os.environ.get("TEAMS_APP_ID", ""),
                        help="the bot's Entra app id (default: TEAMS_APP_ID)")
    args = parser.parse_args(argv)
    try:
        build(args.folder, args.target, args.app_id)
    except ValueError as e:
        print(f"teams-app: {e}", file=sys.stderr)
        return 2
    print(f"teams-app: wrote {args.target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
