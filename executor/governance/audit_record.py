"""One audit record: a statement run (or refused) on behalf of one person, as the audit
trail stores it (docs/audit.md lists the fields and the Athena table over them).

The record never holds a secret: the database identity is a user name, and an error's
message is cut to its first line and has passwords and known secret values masked.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.asker import Asker

OK = "ok"
REFUSED = "refused"
ERROR = "error"
# An error's message is kept to this many characters.
MESSAGE_CHARS = 300
MASK = "***"
# `user:password@` in a URL, and `password=...` / `password: ...` / "password": "..." pairs.
_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")
_PASSWORD_PAIR = re.compile(
    r"""(["']?(?:password|passwd|pwd|secret|token)["']?\s*[:=]\s*["']?)[^"',;&\s]+""",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class AuditRecord:
    # When the statement started, UTC ISO 8601 with milliseconds ("2026-11-30T21:05:00.123Z").
    time: str
    job_id: str
    platform: str | None
    user: str | None
    workspace: str | None
    channel: str | None
    database_user: str
    # "query" (rows fetched) or "export" (the whole result written to a file).
    action: str
    sql: str
    sql_sha256: str
    # Rows fetched (a query) or written (an export); None when it did not run to the end.
    rows: int | None
    duration_ms: int
    # "ok", "refused" (by the SQL guard: nothing ran) or "error".
    outcome: str
    error_class: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, str | int | None]:
        # Its fields are flat values: no deep copy needed (dataclasses.asdict's is slow).
        return dict(vars(self))


def statement_record(
    *,
    started: datetime,
    job_id: str,
    asker: Asker | None,
    database_user: str,
    action: str,
    sql: str,
    rows: int | None,
    duration_s: float,
    error: BaseException | None = None,
    outcome: str | None = None,
    secrets: Iterable[str] = (),
) -> AuditRecord:
    """The record of `sql`, started at `started` (UTC); ok unless `error` (then "error",
    or the given `outcome`)."""
    return AuditRecord(
        time=started.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        job_id=job_id,
        platform=asker.platform if asker else None,
        user=asker.user if asker else None,
        workspace=asker.workspace if asker else None,
        channel=asker.channel if asker else None,
        database_user=database_user,
        action=action,
        sql=sql,
        sql_sha256=sql_sha256(sql),
        rows=rows,
        duration_ms=round(duration_s * 1000),
        outcome=outcome or (OK if error is None else ERROR),
        error_class=type(error).__name__ if error is not None else None,
        error=short_message(error, secrets) if error is not None else None,
    )


def sql_sha256(sql: str) -> str:
    """The hex SHA-256 of the statement's text as run (UTF-8): the same text, the same hash."""
    return hashlib.sha256(sql.encode("utf-8")).hexdigest()


def short_message(error: BaseException, secrets: Iterable[str] = ()) -> str:
    """The error's first line, cut short, with passwords and `secrets` masked."""
    lines = str(error).strip().splitlines()
    text = lines[0] if lines else ""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    text = _URL_PASSWORD.sub(rf"\g<1>{MASK}@", text)
    text = _PASSWORD_PAIR.sub(rf"\g<1>{MASK}", text)
    return text[:MESSAGE_CHARS]
