"""Who asked: the same four facts from a job of any platform."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.asker import Asker
from bot.job import Job, ReplyTo


def _job(reply_to: ReplyTo, source: str) -> Job:
    return Job(job_id="j1", source=source, conversation_id="c", user_id="U0001", text="q",
               reply_to=reply_to, received_at="2026-11-30T00:00:00Z")


def test_a_slack_asker_names_the_workspace_and_channel() -> None:
    reply_to = ReplyTo(kind="slack", team_id="T0001", channel="C0001", thread_ts="1.2")
    assert Asker.of_job(_job(reply_to, "slack")) == Asker("slack", "U0001", "T0001", "C0001")


def test_a_teams_asker_names_the_tenant_and_conversation() -> None:
    reply_to = ReplyTo(kind="teams", service_url="https://smba.example", conversation_id="a:1",
                       activity_id="act", tenant_id="tenant-1", conversation_type="personal")
    asker = Asker.of_job(_job(reply_to, "teams"))
    assert asker == Asker("teams", "U0001", "tenant-1", "a:1")


def test_an_api_asker_has_no_workspace_or_channel() -> None:
    asker = Asker.of_job(_job(ReplyTo(kind="api"), "api"))
    assert asker == Asker("api", "U0001", None, None)


def test_the_local_asker_is_the_terminal_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USER", "ana")
    monkeypatch.setenv("LOGNAME", "ana")
    assert Asker.local() == Asker("cli", "ana")


def test_the_local_asker_survives_a_missing_login_name(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_user() -> str:
        raise KeyError("getpwuid(): uid not found")

    monkeypatch.setattr("getpass.getuser", no_user)
    assert replace(Asker.local(), platform="cli").user == "unknown"
