"""`databot sign-event`: a sample event with a fresh, valid Slack signature."""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from pathlib import Path

import pytest
from slack_sdk.signature import SignatureVerifier

from bot.ingress.http_events import parse_http_event
from executor.commands import sign_event
from tests.support.cli import run_databot
from tests.support.events import EVENTS_DIR, load_event
from tests.support.signing import SIGNING_SECRET


def run_cli(
    *args: str, stdin: str = "", secret: str | None = SIGNING_SECRET
) -> subprocess.CompletedProcess[str]:
    env = {} if secret is None else {"SLACK_SIGNING_SECRET": secret}
    return run_databot(*args, env=env, stdin=stdin)


def test_databot_sign_event_prints_a_valid_fresh_signature_without_heavy_imports() -> None:
    before = int(time.time())

    result = run_cli("sign-event", str(EVENTS_DIR / "slash_command.json"))

    assert result.returncode == 0, result.stderr
    assert "HEAVY: \n" in result.stderr
    event = json.loads(result.stdout)
    request = parse_http_event(event)
    assert int(request.headers["x-slack-request-timestamp"]) >= before
    assert SignatureVerifier(SIGNING_SECRET).is_valid_request(request.text(), request.headers)
    # Everything but the two signature headers is the sample event, untouched.
    original = load_event("slash_command")
    for name in ("x-slack-request-timestamp", "x-slack-signature"):
        event["headers"].pop(name)
    assert event == original


def test_sign_event_reads_stdin_with_a_dash() -> None:
    result = run_cli("sign-event", "-", stdin=json.dumps(load_event("app_mention")))

    assert result.returncode == 0, result.stderr
    request = parse_http_event(json.loads(result.stdout))
    assert SignatureVerifier(SIGNING_SECRET).is_valid_request(request.text(), request.headers)


def run_command(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    sign_event.add_arguments(parser)
    code = sign_event.run(parser.parse_args(list(argv)))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_timestamp_can_be_chosen(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)

    code, out, _ = run_command(
        capsys, str(EVENTS_DIR / "app_mention.json"), "--timestamp", "1700000000"
    )

    assert code == 0
    assert json.loads(out)["headers"]["x-slack-request-timestamp"] == "1700000000"


def test_without_a_secret_it_exits_2_and_prints_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLACK_SIGNING_SECRET", raising=False)

    code, out, err = run_command(capsys, str(EVENTS_DIR / "app_mention.json"))

    assert (code, out) == (2, "")
    assert "SLACK_SIGNING_SECRET is not set" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "cannot read"), ("[1, 2]", "is not a JSON object"), (None, "cannot read")],
)
def test_unreadable_events_exit_2_with_the_reason(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    content: str | None,
    message: str,
) -> None:
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    path = tmp_path / "event.json"
    if content is not None:
        path.write_text(content)

    code, out, err = run_command(capsys, str(path))

    assert (code, out) == (2, "")
    assert message in err
    assert SIGNING_SECRET not in err
