"""An audit record's fields: the time in UTC, who asked, the SQL and its hash, the outcome,
and an error's short message with no secret in it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from bot.asker import Asker
from executor.errors import WarehouseError
from executor.governance.audit_record import (
    MESSAGE_CHARS,
    short_message,
    sql_sha256,
    statement_record,
)

SQL = "SELECT plan, COUNT(*) AS users FROM users GROUP BY plan"
STARTED = datetime(2026, 11, 30, 21, 5, 0, 123456, tzinfo=UTC)
ASKER = Asker("slack", "U0001", "T0001", "C0001")


def test_the_hash_is_the_sha256_of_the_statement_text() -> None:
    assert sql_sha256(SQL) == hashlib.sha256(SQL.encode()).hexdigest()
    assert sql_sha256(SQL) != sql_sha256(SQL + " ")
    assert len(sql_sha256("SELECT 1")) == 64


def test_a_record_names_who_asked_as_whom_it_ran_and_how_it_ended() -> None:
    record = statement_record(started=STARTED, job_id="Ev1", asker=ASKER,
                              database_user="analyst", action="query", sql=SQL, rows=3,
                              duration_s=0.0421)
    assert record.to_dict() == {
        "time": "2026-11-30T21:05:00.123Z", "job_id": "Ev1", "platform": "slack",
        "user": "U0001", "workspace": "T0001", "channel": "C0001",
        "database_user": "analyst", "action": "query", "sql": SQL,
        "sql_sha256": sql_sha256(SQL), "rows": 3, "duration_ms": 42, "outcome": "ok",
        "error_class": None, "error": None,
    }


def test_an_error_is_recorded_with_its_class_and_first_line() -> None:
    error = WarehouseError("column \"plann\" does not exist\nLINE 1: SELECT plann ...")
    record = statement_record(started=STARTED, job_id="Ev1", asker=None,
                              database_user="duckdb", action="export", sql=SQL, rows=None,
                              duration_s=0.01, error=error)
    assert (record.outcome, record.error_class) == ("error", "WarehouseError")
    assert record.error == 'column "plann" does not exist'
    assert (record.platform, record.user, record.channel) == (None, None, None)


def test_no_password_or_known_secret_survives_in_a_message() -> None:
    error = OSError(
        "could not connect to redshift://analyst:hunter2@cluster:5439/dev "
        "(password=hunter2; token: abc123) using s3cr3t-value"
    )
    text = short_message(error, secrets=("s3cr3t-value",))
    for secret in ("hunter2", "abc123", "s3cr3t-value"):
        assert secret not in text
    assert "redshift://analyst:***@cluster:5439/dev" in text


def test_a_long_message_is_cut_short() -> None:
    assert len(short_message(ValueError("x" * 5000))) == MESSAGE_CHARS
