"""How the worker logs in to the warehouse as one person's database user.

A `LoginSource` gives the user name and password to connect as a database user: in
production `ClusterCredentials` asks IAM for temporary ones (Redshift's
GetClusterCredentials on a provisioned cluster); tests use `StaticLogins`, fixed
passwords of PostgreSQL roles. `CachedLogins` keeps each user's login until shortly
before it expires, so a connection (re-)opened for a person does not call IAM each time.

Redshift Serverless has no per-user equivalent: its GetCredentials maps the caller's own
IAM identity to the database user, so one worker role is one database user there
(docs/identity.md).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from bot.observability import service_logger
from executor.errors import TransientError, WarehouseError

logger = service_logger()

# A login is renewed this long before it expires, so a connection never opens on one that
# lapses during the handshake.
RENEW_BEFORE_S = 60.0


@dataclass(frozen=True)
class DbLogin:
    user: str
    password: str = field(repr=False)
    # Seconds since the epoch; None: never expires.
    expires_at: float | None = None


class LoginSource(Protocol):
    def login(self, db_user: str) -> DbLogin:
        """A login as the database user `db_user`."""
        ...


class StaticLogins:
    """Fixed passwords by database user (a local PostgreSQL standing in for Redshift)."""

    def __init__(self, passwords: Mapping[str, str]) -> None:
        self._passwords = dict(passwords)

    def login(self, db_user: str) -> DbLogin:
        password = self._passwords.get(db_user)
        if password is None:
            raise WarehouseError(f"no password is configured for the database user {db_user}")
        return DbLogin(db_user, password)

    def __repr__(self) -> str:
        return f"StaticLogins({sorted(self._passwords)})"


class ClusterCredentials:
    """Temporary credentials from IAM for a provisioned Redshift cluster
    (`redshift:GetClusterCredentials`), never creating a user (AutoCreate=False)."""

    def __init__(
        self,
        client: Any,
        *,
        cluster_identifier: str,
        database: str,
        db_groups: Sequence[str] = (),
        duration_s: int,
    ) -> None:
        self._client = client
        self.cluster_identifier = cluster_identifier
        self.database = database
        self.db_groups = tuple(db_groups)
        self.duration_s = duration_s

    def login(self, db_user: str) -> DbLogin:
        from botocore.exceptions import BotoCoreError, ClientError

        args: dict[str, Any] = {
            "DbUser": db_user, "DbName": self.database,
            "ClusterIdentifier": self.cluster_identifier,
            "DurationSeconds": self.duration_s, "AutoCreate": False,
        }  # fmt: skip
        if self.db_groups:
            args["DbGroups"] = list(self.db_groups)
        try:
            reply = self._client.get_cluster_credentials(**args)
        except ClientError as e:
            code = e.response.get("Error", {}).get("Code", "")
            if code in ("ThrottlingException", "ServiceUnavailable", "InternalFailure"):
                raise TransientError(f"IAM credentials for {db_user}: {code}") from e
            raise WarehouseError(
                f"cannot get Redshift credentials for the database user {db_user} ({code})"
            ) from e
        except BotoCoreError as e:
            raise TransientError(f"IAM credentials for {db_user}: {e}") from e
        expiration: datetime | None = reply.get("Expiration")
        return DbLogin(reply["DbUser"], reply["DbPassword"],
                       expires_at=expiration.timestamp() if expiration else None)


class CachedLogins:
    """Each user's login from `source`, kept until RENEW_BEFORE_S before it expires. Users
    log in side by side: one user's slow IAM call holds up only that user."""

    def __init__(self, source: LoginSource, *, clock: Callable[[], float] = time.time) -> None:
        self._source = source
        self._clock = clock
        self._logins: dict[str, DbLogin] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def login(self, db_user: str) -> DbLogin:
        with self._lock:
            user_lock = self._locks.setdefault(db_user, threading.Lock())
        with user_lock:
            login = self._logins.get(db_user)
            if login is None or (
                login.expires_at is not None and self._clock() >= login.expires_at - RENEW_BEFORE_S
            ):
                login = self._source.login(db_user)
                self._logins[db_user] = login
                logger.debug("fetched a login for the database user %s", db_user)
            return login
