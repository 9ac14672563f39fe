"""One warehouse per database user, never shared; idle ones closed; the pool bounded."""

from __future__ import annotations

import threading
import time

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
    return IdentityPool(opener, clock=lambda: now[0], **kwargs)  # type: ignore[arg-type]


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
