"""Per-user logins: IAM's GetClusterCredentials (through botocore's Stubber, which checks
each request against the service model), static passwords, and the cache that renews a
login shortly before it expires."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from executor.errors import TransientError, WarehouseError
from executor.governance.credentials import (
    RENEW_BEFORE_S,
    CachedLogins,
    ClusterCredentials,
    DbLogin,
    StaticLogins,
)

EXPIRES = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)


@pytest.fixture
def redshift() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("redshift", region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _credentials(client: Any, **kwargs: Any) -> ClusterCredentials:
    return ClusterCredentials(client, cluster_identifier="analytics", database="dev",
                              **{"duration_s": 900, **kwargs})


def test_cluster_credentials_ask_for_the_user_without_creating_it(
    redshift: tuple[Any, Stubber],
) -> None:
    client, stubber = redshift
    stubber.add_response(
        "get_cluster_credentials",
        {"DbUser": "IAM:db_ana", "DbPassword": "temporary", "Expiration": EXPIRES},
        {"DbUser": "db_ana", "DbName": "dev", "ClusterIdentifier": "analytics",
         "DurationSeconds": 1800, "AutoCreate": False, "DbGroups": ["analysts"]},
    )
    login = _credentials(client, db_groups=["analysts"], duration_s=1800).login("db_ana")
    assert login == DbLogin("IAM:db_ana", "temporary", EXPIRES.timestamp())
    assert "temporary" not in repr(login)


def test_a_refusal_is_a_warehouse_error_and_throttling_is_transient(
    redshift: tuple[Any, Stubber],
) -> None:
    client, stubber = redshift
    stubber.add_client_error("get_cluster_credentials", "UnauthorizedOperation")
    stubber.add_client_error("get_cluster_credentials", "ThrottlingException")
    credentials = _credentials(client)
    with pytest.raises(WarehouseError, match=r"db_ana \(UnauthorizedOperation\)"):
        credentials.login("db_ana")
    with pytest.raises(TransientError):
        credentials.login("db_ana")


def test_static_logins_know_only_their_users() -> None:
    logins = StaticLogins({"db_ana": "secret"})
    assert logins.login("db_ana") == DbLogin("db_ana", "secret")
    assert "secret" not in repr(logins)
    with pytest.raises(WarehouseError, match="db_bo"):
        logins.login("db_bo")


class _Counting:
    def __init__(self, lifetime_s: float | None, clock: list[float]) -> None:
        self.calls: list[str] = []
        self._lifetime_s = lifetime_s
        self._clock = clock

    def login(self, db_user: str) -> DbLogin:
        self.calls.append(db_user)
        expires = None if self._lifetime_s is None else self._clock[0] + self._lifetime_s
        return DbLogin(db_user, f"pw{len(self.calls)}", expires)


def test_a_login_is_kept_per_user_until_shortly_before_it_expires() -> None:
    now = [1000.0]
    source = _Counting(900, now)
    cached = CachedLogins(source, clock=lambda: now[0])
    # GIVEN a login fetched for ana, WHEN asked again well before expiry THEN it is reused
    assert cached.login("db_ana").password == "pw1"
    now[0] += 900 - RENEW_BEFORE_S - 1
    assert cached.login("db_ana").password == "pw1"
    # a second user gets a login of their own
    assert cached.login("db_bo").password == "pw2"
    # WHEN the renewal margin is reached THEN a fresh login is fetched
    now[0] += 1
    assert cached.login("db_ana").password == "pw3"
    assert source.calls == ["db_ana", "db_bo", "db_ana"]


def test_a_login_without_expiry_is_fetched_once() -> None:
    now = [0.0]
    source = _Counting(None, now)
    cached = CachedLogins(source, clock=lambda: now[0])
    cached.login("db_ana")
    now[0] += 10**9
    cached.login("db_ana")
    assert source.calls == ["db_ana"]


def test_one_users_slow_login_holds_up_only_that_user() -> None:
    release = threading.Event()

    class _Slow:
        def login(self, db_user: str) -> DbLogin:
            if db_user == "db_ana":
                release.wait(5)
            return DbLogin(db_user, "pw")

    cached = CachedLogins(_Slow())
    ana = threading.Thread(target=cached.login, args=("db_ana",))
    ana.start()
    # WHEN ana's login is still under way THEN bo logs in at once
    assert cached.login("db_bo") == DbLogin("db_bo", "pw")
    assert ana.is_alive()
    release.set()
    ana.join(5)
