"""`databot worker` and `databot dev` refuse to start on bad settings, naming the problem."""

from __future__ import annotations

import pytest

from executor.cli import main
from executor.worker.app import WorkerSetupError, load_engine_factory


def test_worker_names_a_malformed_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WORKER_CONCURRENCY", "eight")
    assert main(["worker"]) == 2
    assert "WORKER_CONCURRENCY must be an integer, got 'eight'" in capsys.readouterr().err


def test_worker_names_missing_queue_and_table(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("JOBS_QUEUE_URL", "JOBS_TABLE", "WORKER_CONCURRENCY"):
        monkeypatch.delenv(name, raising=False)
    engine = "tests.support.scripted_engine:scripted_engine_from_env"
    assert main(["worker", "--engine", engine]) == 2
    assert "missing settings: JOBS_QUEUE_URL, JOBS_TABLE" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("no_colon", "must look like module:function"),
        ("executor.nowhere:build", "cannot load engine factory"),
        ("executor.settings:REPO_ROOT", "is not callable"),
    ],
)
def test_a_bad_engine_factory_is_named(spec: str, problem: str) -> None:
    with pytest.raises(WorkerSetupError, match=problem):
        load_engine_factory(spec)


def test_dev_needs_both_slack_tokens(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    assert main(["dev"]) == 2
    assert "SLACK_APP_TOKEN" in capsys.readouterr().err
