"""One user's pool of Redshift sessions without a server: bounded, each session held by
one piece of work at a time, reused, and closed when idle."""

from __future__ import annotations

import threading
import time
from typing import Any

from executor.warehouse.redshift.connection import RedshiftConnection
from executor.warehouse.redshift.pool import ConnectionPool
from executor.warehouse.redshift.target import parse_url
from tests.support.redshift_driver import FakeConnection


class _Driver:
    """Opens recording fake connections, one log each."""

    def __init__(self) -> None:
        self.logs: list[list[str]] = []

    def connect(self, **kwargs: Any) -> FakeConnection:
        self.logs.append([])
        return FakeConnection(self.logs[-1])

    def session(self) -> RedshiftConnection:
        return RedshiftConnection(parse_url("redshift://db_ana@host/dev"), password=lambda: "pw",
                                  statement_timeout_s=5, connect=self.connect)


def test_work_at_once_gets_sessions_of_its_own_up_to_the_size() -> None:
    driver, now = _Driver(), [0.0]
    pool = ConnectionPool(driver.session, size=2, clock=lambda: now[0])
    both_inside = threading.Barrier(2, timeout=5)
    lock = threading.Lock()
    started, running, most = [0], [0], [0]

    def work(cursor: Any) -> None:
        with lock:
            started[0] += 1
            order = started[0]
            running[0] += 1
            most[0] = max(most[0], running[0])
        if order <= 2:
            both_inside.wait()  # the first two hold their sessions at the same time
        time.sleep(0.02)
        with lock:
            running[0] -= 1

    threads = [threading.Thread(target=pool.run, args=(work,), kwargs={"retry": False})
               for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    # two sessions were opened, two pieces of work ran at once, never more
    assert len(driver.logs) == 2 and pool.open_connections == 2
    assert most[0] == 2
    # every piece of work ran in its own transaction, rolled back on the session it held
    assert sum(log.count("ROLLBACK") for log in driver.logs) == 5


def test_an_idle_session_is_closed_and_a_busy_one_reused() -> None:
    driver, now = _Driver(), [0.0]
    pool = ConnectionPool(driver.session, size=2, idle_s=60, clock=lambda: now[0])
    pool.run(lambda cursor: None, retry=False)
    now[0] += 59
    pool.run(lambda cursor: None, retry=False)
    assert len(driver.logs) == 1
    now[0] += 60
    pool.run(lambda cursor: None, retry=False)
    assert len(driver.logs) == 2 and driver.logs[0][-1] == "CLOSE"
    assert pool.open_connections == 1
    pool.close()
    assert driver.logs[1][-1] == "CLOSE" and pool.open_connections == 0


def test_opening_connects_one_session_and_keeps_it_for_the_next_work() -> None:
    driver = _Driver()
    pool = ConnectionPool(driver.session, size=2)
    pool.open()
    assert len(driver.logs) == 1 and pool.open_connections == 1
    pool.run(lambda cursor: None, retry=False)
    assert len(driver.logs) == 1
