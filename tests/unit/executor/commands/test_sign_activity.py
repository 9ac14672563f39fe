"""`databot sign-activity`: a sample Teams event with a token the front door accepts once it
reads the key endpoint written beside the test key."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from bot.teams.activities import parse_activity
from bot.teams.auth import SigningKeys, TokenValidator, check_service_url
from tests.support.cli import run_databot
from tests.support.events import EVENTS_DIR
from tests.support.teams_auth import APP_ID


def run_cli(*args: str, results: Path, stdin: str = "",
            app_id: str | None = APP_ID) -> subprocess.CompletedProcess[str]:
    env = {"RESULTS_DIR": str(results), **({"TEAMS_APP_ID": app_id} if app_id else {})}
    return run_databot(*args, env=env, stdin=stdin)


def front_door_check(event: dict[str, Any], key_folder: Path) -> dict[str, Any]:
    """The token's claims as the front door reads them, its keys from the written files."""
    def fetch(url: str) -> Any:
        return json.loads((key_folder / url.rsplit("/", 1)[1]).read_text())

    validator = TokenValidator(APP_ID, SigningKeys("http://local/openidconfiguration",
                                                   fetch=fetch))
    claims = dict(validator.claims(event["headers"]["authorization"]))
    check_service_url(claims, parse_activity(json.loads(event["body"])).service_url)
    return claims


def test_sign_activity_makes_a_key_endpoint_and_a_token_the_front_door_accepts(
    tmp_path: Path,
) -> None:
    # WHEN the sample event is signed twice
    first = run_cli("sign-activity", str(EVENTS_DIR / "teams_message.json"), results=tmp_path)
    second = run_cli("sign-activity", "-", results=tmp_path,
                     stdin=(EVENTS_DIR / "teams_message.json").read_text())

    # THEN a key was made once, with its endpoint's documents, and both tokens check out
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert "HEAVY: \n" in first.stderr
    folder = tmp_path / "teams-keys"
    assert sorted(p.name for p in folder.iterdir()) == [
        "jwks.json", "openidconfiguration", "signing-key.pem"]
    assert "TEAMS_OPENID_METADATA_URL=http://host.docker.internal:8765/openidconfiguration" \
        in first.stderr
    assert "new test key" not in second.stderr
    metadata = json.loads((folder / "openidconfiguration").read_text())
    assert metadata["jwks_uri"] == "http://host.docker.internal:8765/jwks.json"
    for result in (first, second):
        claims = front_door_check(json.loads(result.stdout), folder)
        assert claims["aud"] == APP_ID


def test_a_given_key_and_app_id_are_used(tmp_path: Path) -> None:
    key = tmp_path / "keys" / "mine.pem"

    result = run_cli("sign-activity", str(EVENTS_DIR / "teams_message.json"), "--key",
                     str(key), "--app-id", APP_ID, "--key-url", "http://127.0.0.1:9000",
                     results=tmp_path, app_id=None)

    assert result.returncode == 0, result.stderr
    assert key.exists()
    assert front_door_check(json.loads(result.stdout), key.parent)["aud"] == APP_ID


def test_an_event_without_an_activity_is_refused(tmp_path: Path) -> None:
    result = run_cli("sign-activity", str(EVENTS_DIR / "prompt_get.json"), results=tmp_path)

    assert result.returncode == 2
    assert "cannot sign" in result.stderr
    assert result.stdout == ""
