"""`databot usage`: the month's spend, tokens, answers and verified-hit rate as a table or
JSON, from the local ledger or USAGE_TABLE (moto)."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from bot.answer import Usage
from executor.cli import main
from executor.governance.spend import Counts, DynamoLedger, Ledger, Scope, SqliteLedger
from tests.support.usage_table import create_usage_table

ALICE_MONTH = Scope("user", "T0001#U0001", "2026-11")
ALICE_DAY = Scope("user", "T0001#U0001", "2026-11-30")
CHANNEL_MONTH = Scope("channel", "T0001#C0001", "2026-11")


def record(ledger: Ledger) -> None:
    """Two answers by one person in one channel: a model answer and a verified one."""
    call = Usage(input_tokens=1200, output_tokens=300, cache_read_tokens=800,
                 cache_write_tokens=400, cost_usd=0.0123)
    for scope in (ALICE_MONTH, ALICE_DAY, CHANNEL_MONTH):
        ledger.add(scope, Counts.of_call(call, reserved=0.0))
        ledger.add(scope, Counts(answers=1))
        ledger.add(scope, Counts(answers=1, verified_answers=1))
    ledger.add(Scope("user", "T0001#U0001", "2026-10"), Counts(cost_usd=9.0, answers=9))


@pytest.fixture
def local_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SqliteLedger:
    monkeypatch.delenv("USAGE_TABLE", raising=False)
    monkeypatch.setenv("RESULTS_DIR", str(tmp_path / "results"))
    ledger = SqliteLedger(tmp_path / "results" / "usage.sqlite3")
    record(ledger)
    return ledger


def test_a_table_per_person(local_ledger: SqliteLedger, capsys: pytest.CaptureFixture[str]
                            ) -> None:
    assert main(["usage", "--month", "2026-11"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Model spend in 2026-11, by user"
    assert lines[1].split() == ["user", "spend", "USD", "input", "output", "cache", "read",
                                "cache", "write", "answers", "verified", "verified", "%"]
    assert lines[2].split() == ["T0001#U0001", "0.0123", "1,200", "300", "800", "400", "2",
                                "1", "50%"]
    assert lines[3].split()[0] == "total" and lines[3].split()[1:] == lines[2].split()[1:]


def test_json_per_day(local_ledger: SqliteLedger, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["usage", "--by", "day", "--month", "2026-11", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["month"] == "2026-11" and report["by"] == "day"
    [day] = report["rows"]
    assert day == {"day": "2026-11-30", "cost_usd": 0.0123, "input_tokens": 1200,
                   "output_tokens": 300, "cache_read_tokens": 800, "cache_write_tokens": 400,
                   "calls": 1, "answers": 2, "verified_answers": 1, "verified_rate": 0.5}
    assert report["total"]["answers"] == 2


def test_an_empty_month_prints_zero(local_ledger: SqliteLedger,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["usage", "--by", "channel", "--month", "2025-01"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].split() == ["total", "0.0000", "0", "0", "0", "0", "0", "0", "-"]


def test_usage_table_is_read_when_set(monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_usage_table(client, "usage")
        record(DynamoLedger("usage", client=client))
        monkeypatch.setenv("USAGE_TABLE", "usage")
        monkeypatch.setenv("AWS_REGION", "us-east-1")
        assert main(["usage", "--by", "channel", "--month", "2026-11", "--json"]) == 0
    [channel] = json.loads(capsys.readouterr().out)["rows"]
    assert channel["channel"] == "T0001#C0001" and channel["verified_rate"] == 0.5


@pytest.mark.parametrize("month", ["2026-13", "november", "2026-1"])
def test_a_month_must_look_like_one(month: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["usage", "--month", month])
    assert done.value.code == 2
    assert "expected a month like 2026-11" in capsys.readouterr().err


def test_a_bad_setting_exits_2(monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("USER_DAILY_BUDGET_USD", "lots")
    assert main(["usage"]) == 2
    assert "USER_DAILY_BUDGET_USD must be a number >= 0" in capsys.readouterr().err
