"""One warehouse per database user, never shared; idle ones closed; the pool bounded."""

from __future__ import annotations

import threading
import time

import pytest

from executor.governance.identity_pool import IdentityPool


class _Warehouse:
    dialect = "redshift"

    def __init__(self, user: str) -> None:
        self.user = user
        self.closed = False

    def close(self) -> None:
        self.closed = True


class _Opener:
    def __init__(self) -> None:
        self.opened: list[_Warehouse] = []

    def __call__(self, user: str) -> _Warehouse:
        warehouse = _Warehouse(user)
        self.opened.append(warehouse)
        return warehouse


def _pool(opener: _Opener, now: list[float], **kwargs: float) -> IdentityPool:
    limits = {"max_identities": 16, "idle_s": 600.0, **kwargs}
    return IdentityPool(opener, clock=lambda: now[0], **limits)  # type: ignore[arg-type]


def test_each_user_gets_their_own_warehouse_and_keeps_it() -> None:
    opener, now = _Opener(), [0.0]
    pool = _pool(opener, now)
    with pool.lease("db_ana") as ana, pool.lease("db_bo") as bo:
        assert ana is not bo
        assert (ana.user, bo.user) == ("db_ana", "db_bo")  # type: ignore[attr-defined]
    with pool.lease("db_ana") as again:
        assert again is ana
    assert len(opener.opened) == 2


def test_an_identity_idle_past_the_limit_is_closed() -> None:
    opener, now = _Opener(), [0.0]
    pool = _pool(opener, now, idle_s=60)
    with pool.lease("db_ana"):
        now[0] += 120  # in use: never closed under a request
        with pool.lease("db_bo"):
            pass
    [ana, bo] = opener.opened
    now[0] += 59
    with pool.lease("db_cy"):
        assert not ana.closed and not bo.closed
    now[0] += 1
    with pool.lease("db_cy"):
        assert ana.closed and bo.closed
    assert pool.open_identities() == ["db_cy"]


def test_a_full_pool_closes_the_identity_idle_longest() -> None:
    opener, now = _Opener(), [0.0]
    pool = _pool(opener, now, max_identities=2)
    for user in ("db_ana", "db_bo"):
        with pool.lease(user):
            now[0] += 1
    with pool.lease("db_ana"):
        now[0] += 1
    with pool.lease("db_cy"):
        pass
    assert sorted(pool.open_identities()) == ["db_ana", "db_cy"]
    assert [w.user for w in opener.opened if w.closed] == ["db_bo"]


def test_when_every_identity_is_in_use_a_new_one_waits() -> None:
    opener, now = _Opener(), [0.0]
    pool = _pool(opener, now, max_identities=1)
    entered = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with pool.lease("db_ana"):
            entered.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    entered.wait(5)
    got: list[str] = []

    def wait_for_bo() -> None:
        with pool.lease("db_bo"):
            got.extend(pool.open_identities())

    waiter = threading.Thread(target=wait_for_bo)
    waiter.start()
    time.sleep(0.2)
    assert got == [] and waiter.is_alive()
    release.set()
    holder.join(5)
    waiter.join(5)
    assert got == ["db_bo"]
    assert opener.opened[0].closed


def test_close_closes_every_identity() -> None:
    opener, now = _Opener(), [0.0]
    pool = _pool(opener, now)
    for user in ("db_ana", "db_bo"):
        with pool.lease(user):
            pass
    pool.close()
    assert all(w.closed for w in opener.opened) and pool.open_identities() == []


def test_a_warehouse_being_opened_holds_up_nobody_else() -> None:
    opener, now = _Opener(), [0.0]
    release = threading.Event()

    def slow_for_ana(user: str) -> _Warehouse:
        if user == "db_ana":
            release.wait(5)  # logging in as ana (an IAM call) takes a while
        return opener(user)

    pool = IdentityPool(slow_for_ana, max_identities=4, idle_s=60,  # type: ignore[arg-type]
                        clock=lambda: now[0])
    got: list[str] = []

    def lease(user: str) -> None:
        with pool.lease(user) as warehouse:
            got.append(warehouse.user)  # type: ignore[attr-defined]

    ana, ana_again = (threading.Thread(target=lease, args=("db_ana",)) for _ in range(2))
    ana.start()
    ana_again.start()
    # WHEN bo asks while ana's warehouse is still opening THEN bo is not held up
    lease("db_bo")
    assert got == ["db_bo"]
    release.set()
    ana.join(5)
    ana_again.join(5)
    # AND ana's two questions share the one warehouse opened for her
    assert got == ["db_bo", "db_ana", "db_ana"] and len(opener.opened) == 2


def test_a_warehouse_that_fails_to_open_leaves_no_trace() -> None:
    calls: list[str] = []

    def failing(user: str) -> _Warehouse:
        calls.append(user)
        if len(calls) == 1:
            raise RuntimeError("IAM refused")
        return _Warehouse(user)

    pool = IdentityPool(failing, max_identities=4, idle_s=60)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="IAM refused"), pool.lease("db_ana"):
        pass
    assert pool.open_identities() == []
    with pool.lease("db_ana") as warehouse:
        assert warehouse.user == "db_ana"  # type: ignore[attr-defined]
