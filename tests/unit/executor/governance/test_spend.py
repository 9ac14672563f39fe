"""The spend ledger, in DynamoDB (moto) and in SQLite: counters only grow, a reservation is
refused at the limit, a month's counters come back whole, and daily items expire."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bot.answer import Usage
from executor.governance.spend import (
    DAY_RETENTION_S,
    Counts,
    DynamoLedger,
    Ledger,
    Scope,
    SqliteLedger,
)
from tests.support.usage_table import Serialized, create_usage_table

TABLE = "databot-usage"
DAY = Scope("user", "T0001#U0001", "2026-11-30")
MONTH = Scope("user", "T0001#U0001", "2026-11")
CHANNEL_MONTH = Scope("channel", "T0001#C0001", "2026-11")


@pytest.fixture
def dynamo_client() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_usage_table(client, TABLE)
        yield client


@pytest.fixture(params=["dynamodb", "sqlite"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Ledger:
    if request.param == "dynamodb":
        client = request.getfixturevalue("dynamo_client")
        return DynamoLedger(TABLE, client=Serialized(client))
    return SqliteLedger(tmp_path / "results" / "usage.sqlite3")


def test_scopes_are_keyed_by_whose_and_which_period() -> None:
    assert DAY.key == "user#T0001#U0001#2026-11-30" and DAY.daily and DAY.month == "2026-11"
    assert CHANNEL_MONTH.key == "channel#T0001#C0001#2026-11" and not CHANNEL_MONTH.daily
    assert Scope.parse(DAY.key) == DAY and Scope.parse(CHANNEL_MONTH.key) == CHANNEL_MONTH
    # A daily counter expires DAY_RETENTION_S after its day ends; a monthly one is kept.
    assert DAY.expires_at == 1_796_083_200 + DAY_RETENTION_S  # 2026-12-01T00:00Z
    assert MONTH.expires_at is None


def test_counts_add_up(ledger: Ledger) -> None:
    # GIVEN two calls and two answers (one verified) counted on one scope
    call = Usage(model_id="m", input_tokens=1000, output_tokens=100, cache_read_tokens=500,
                 cache_write_tokens=200, cost_usd=0.0045)
    ledger.add(MONTH, Counts.of_call(call, reserved=0.0))
    ledger.add(MONTH, Counts.of_call(call, reserved=0.0))
    ledger.add(MONTH, Counts(answers=1))
    ledger.add(MONTH, Counts(answers=1, verified_answers=1))
    # WHEN it is read, beside a scope nothing was counted on
    counted, empty = ledger.read([MONTH, DAY])
    # THEN every counter holds its sum, and the other is zero
    assert counted == Counts(cost_usd=pytest.approx(0.009), input_tokens=2000,
                             output_tokens=200, cache_read_tokens=1000,
                             cache_write_tokens=400, calls=2, answers=2, verified_answers=1,
                             committed_usd=pytest.approx(0.009))
    assert counted.verified_rate == 0.5
    assert empty == Counts()


def test_a_settled_call_replaces_its_reservation(ledger: Ledger) -> None:
    assert ledger.reserve(DAY, 0.05, limit=1.0)
    ledger.add(DAY, Counts.of_call(Usage(cost_usd=0.01), reserved=0.05))
    [counts] = ledger.read([DAY])
    assert counts.cost_usd == pytest.approx(0.01)
    assert counts.committed_usd == pytest.approx(0.01)


def test_a_reservation_is_refused_once_the_limit_is_reached(ledger: Ledger) -> None:
    # GIVEN a limit of $0.10 and reservations of $0.04
    # WHEN three are made THEN each is admitted while the committed total is below the limit
    assert [ledger.reserve(DAY, 0.04, limit=0.10) for _ in range(4)] == [True, True, True, False]
    assert ledger.read([DAY])[0].committed_usd == pytest.approx(0.12)
    # AND a limit of 0 admits nothing, not even on a fresh counter
    assert ledger.reserve(MONTH, 0.04, limit=0.0) is False


def test_reservations_from_many_threads_never_pass_the_limit(ledger: Ledger) -> None:
    # GIVEN 20 threads reserving $0.01 at once against a limit of $0.05
    start = threading.Barrier(20)
    admitted: list[bool] = []

    def reserve() -> None:
        start.wait()
        admitted.append(ledger.reserve(DAY, 0.01, limit=0.05))

    threads = [threading.Thread(target=reserve) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # THEN exactly five are admitted
    assert admitted.count(True) == 5
    assert ledger.read([DAY])[0].committed_usd == pytest.approx(0.05)


def test_a_month_holds_its_monthly_and_daily_counters(ledger: Ledger) -> None:
    for scope in (DAY, MONTH, CHANNEL_MONTH, Scope("user", "T0001#U0001", "2026-10"),
                  Scope("user", "T0001#U0001", "2026-12-01")):
        ledger.add(scope, Counts(answers=1))
    found = {scope for scope, _ in ledger.month("2026-11")}
    assert found == {DAY, MONTH, CHANNEL_MONTH}


def test_daily_items_carry_their_expiry(dynamo_client: Any) -> None:
    DynamoLedger(TABLE, client=dynamo_client).add(DAY, Counts(answers=1))
    DynamoLedger(TABLE, client=dynamo_client).add(MONTH, Counts(answers=1))
    day = dynamo_client.get_item(TableName=TABLE, Key={"scope": {"S": DAY.key}})["Item"]
    month = dynamo_client.get_item(TableName=TABLE, Key={"scope": {"S": MONTH.key}})["Item"]
    assert int(day["expires_at"]["N"]) == DAY.expires_at
    assert "expires_at" not in month
