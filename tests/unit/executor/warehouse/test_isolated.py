"""DuckDB in its memory-capped child process: statements that build values outside
DuckDB's memory_limit fail alone with a one-line error, the worker's own memory stays
flat, concurrent queries keep their answers, and a lost child is replaced."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

from executor.config import DEFAULT_INPUT, WarehouseConfig
from executor.errors import WarehouseError
from executor.warehouse.factory import open_warehouse
from executor.warehouse.guarded import export_guarded, run_guarded
from executor.warehouse.isolated import (
    CHILD_ENTRY,
    HEADROOM_BYTES,
    MAX_REPLY_BYTES,
    IsolatedDuckDBWarehouse,
    size_bytes,
)
from tests.support.memory import (
    CONCAT_BLOWUP,
    MB,
    WORKER_BOUND_MB,
    peak_rss_bytes,
    rss_growth,
)
from tests.support.paths import REPO
from tests.support.worker import wait_for

USERS = len((DEFAULT_INPUT / "users.csv").read_text(encoding="utf-8").splitlines()) - 1


@pytest.fixture(scope="module")
def warehouse() -> Iterator[IsolatedDuckDBWarehouse]:
    warehouse = IsolatedDuckDBWarehouse(DEFAULT_INPUT, memory_limit="128MB", statement_timeout_s=5)
    yield warehouse
    warehouse.close()


# Statements within every guard bound that would build far more than the cap.
HEAVY_ACCEPTED = [
    CONCAT_BLOWUP,
    "WITH RECURSIVE r(s) AS (SELECT 'x' UNION ALL SELECT s || s FROM r "
    "WHERE length(s) < 1000000000) SELECT max(length(s)) AS n FROM r",
    "SELECT array_agg(n) AS ns FROM generate_series(1, 10000000) AS t(n)",
    "SELECT string_agg(a.city || b.city, ',') AS s FROM users AS a CROSS JOIN users AS b",
]


@pytest.mark.parametrize("sql", HEAVY_ACCEPTED)
def test_a_statement_past_the_cap_fails_alone_and_the_worker_stays_flat(
    warehouse: IsolatedDuckDBWarehouse, sql: str
) -> None:
    # GIVEN the warehouse in its child process, capped past its 128 MB memory_limit
    assert warehouse.data_limit_bytes > size_bytes("128MB") + HEADROOM_BYTES
    # WHEN a guarded statement that builds a value far past the cap runs
    with rss_growth() as worker, pytest.raises(WarehouseError) as failed:
        run_guarded(warehouse, sql, max_rows=10)
    # THEN it fails with one clear line, the worker barely moved, the child stayed capped
    assert str(failed.value).startswith("query stopped: it needs more memory than the warehouse")
    assert "\n" not in str(failed.value)
    assert worker.mb < WORKER_BOUND_MB
    assert warehouse.child_pid is not None
    assert peak_rss_bytes(warehouse.child_pid) <= warehouse.data_limit_bytes
    # AND the same warehouse keeps answering
    assert run_guarded(warehouse, "SELECT count(*) AS n FROM users", max_rows=1).rows == [(USERS,)]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT length(repeat('x', 4000000000)) AS n",
        "SELECT len(range(400000000)) AS n",
        "SELECT max(length(lpad(city, 100000000, 'x'))) AS n FROM users",
    ],
)
def test_even_past_the_guard_the_former_attacks_cannot_grow_the_worker(
    warehouse: IsolatedDuckDBWarehouse, sql: str
) -> None:
    # GIVEN the statements that took the worker to 7.9 GB and 4.8 GB, sent straight to the
    # warehouse as if the guard had missed them
    # WHEN they run THEN the cap stops them with one line and the worker does not grow
    with rss_growth() as worker, pytest.raises(WarehouseError, match="needs more memory"):
        warehouse.query(sql, 1)
    assert worker.mb < WORKER_BOUND_MB
    assert warehouse.child_pid is not None
    assert peak_rss_bytes(warehouse.child_pid) <= warehouse.data_limit_bytes


def test_a_heavy_export_is_held_to_the_cap_too(
    warehouse: IsolatedDuckDBWarehouse, tmp_path: Path
) -> None:
    with rss_growth() as worker, pytest.raises(WarehouseError, match="needs more memory"):
        export_guarded(warehouse, CONCAT_BLOWUP, tmp_path / "out.csv")

    assert worker.mb < WORKER_BOUND_MB


def test_other_queries_keep_their_answers_while_one_hits_the_cap(
    warehouse: IsolatedDuckDBWarehouse,
) -> None:
    # GIVEN eight ordinary queries and one that hits the cap, all at once
    ordinary = [f"SELECT count(*) AS n FROM users WHERE user_id <= {n * 100}" for n in range(1, 9)]
    with ThreadPoolExecutor(max_workers=9) as pool:
        blowup = pool.submit(run_guarded, warehouse, CONCAT_BLOWUP, max_rows=10)
        answers = [pool.submit(run_guarded, warehouse, sql, max_rows=1) for sql in ordinary]
        # THEN each ordinary query gets its own answer and the heavy one its error
        assert [a.result().rows for a in answers] == [[(n * 100,)] for n in range(1, 9)]
        with pytest.raises(WarehouseError, match="needs more memory"):
            blowup.result()


def test_a_reply_too_big_for_the_worker_never_reaches_it(
    warehouse: IsolatedDuckDBWarehouse,
) -> None:
    # GIVEN a preview of 10,000 rows of 7,000 characters (~70 MB, past the reply bound)
    sql = "SELECT repeat('x', 7000) || interaction_id AS wide FROM interactions"
    # WHEN fetched THEN the child refuses it (too big to send, or to build within its cap)
    # and the worker stays flat
    with (
        rss_growth() as worker,
        pytest.raises(
            WarehouseError, match=r"larger than 64 MB|needs more memory than the warehouse allows"
        ),
    ):
        run_guarded(warehouse, sql, max_rows=10_000)
    assert worker.mb < MAX_REPLY_BYTES / MB


def test_a_lost_child_fails_its_calls_and_the_next_call_gets_a_new_one() -> None:
    warehouse = IsolatedDuckDBWarehouse(DEFAULT_INPUT, statement_timeout_s=30)
    try:
        # GIVEN a long query in flight
        first_pid = warehouse.child_pid
        assert first_pid is not None
        errors: list[Exception] = []
        started = threading.Event()

        def long_query() -> None:
            started.set()
            try:
                warehouse.query("SELECT count(*) FROM interactions a, interactions b", 1)
            except WarehouseError as e:
                errors.append(e)

        caller = threading.Thread(target=long_query)
        caller.start()
        started.wait(5)
        child = psutil.Process(first_pid)
        wait_for(lambda: child.cpu_times().user > 0.5, 20, "the long query to be running")
        # WHEN the child process dies
        child.kill()
        caller.join(30)
        # THEN the call in flight fails clearly, and the next call runs on a new child
        assert [str(e) for e in errors] == ["the warehouse process stopped while running the query"]
        assert warehouse.query("SELECT 42 AS n", 1).rows == [(42,)]
        assert warehouse.child_pid not in (None, first_pid)
    finally:
        warehouse.close()
    # AND once closed, it starts no child again
    with pytest.raises(WarehouseError, match="the warehouse is closed"):
        warehouse.query("SELECT 1", 1)


def test_the_configured_duckdb_warehouse_runs_in_its_own_process(tmp_path: Path) -> None:
    warehouse = open_warehouse(WarehouseConfig(url=f"duckdb://{DEFAULT_INPUT}"))
    try:
        assert isinstance(warehouse, IsolatedDuckDBWarehouse)
        assert warehouse.child_pid not in (None, psutil.Process().pid)
        assert {t.name for t in warehouse.tables()} == {"users", "interactions"}
    finally:
        warehouse.close()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("128MB", 128_000_000), ("1GiB", 1 << 30), ("512 mb", 512_000_000), ("2.5GB", 2_500_000_000)],
)
def test_memory_sizes_read_as_duckdb_reads_them(text: str, expected: int) -> None:
    assert size_bytes(text) == expected


def test_a_memory_size_that_is_not_one_is_named() -> None:
    with pytest.raises(ValueError, match="not a memory size: 'lots'"):
        size_bytes("lots")


def test_a_warehouse_that_cannot_start_fails_its_first_call_or_a_warm_open(
    tmp_path: Path,
) -> None:
    # GIVEN a folder with no CSV in it
    # WHEN it is opened for one command THEN opening returns at once, and the first call
    # reports why the warehouse did not start
    cold = open_warehouse(WarehouseConfig(url=f"duckdb://{tmp_path}"), warm=False)
    try:
        with pytest.raises(WarehouseError, match="did not start: no CSV files in"):
            cold.tables()
    finally:
        cold.close()
    # WHEN the worker opens it THEN opening itself fails
    with pytest.raises(WarehouseError, match="did not start: no CSV files in"):
        open_warehouse(WarehouseConfig(url=f"duckdb://{tmp_path}"))


FORKING_PROCESS = """
import json, psutil
from executor.config import DEFAULT_INPUT
from executor.warehouse.isolated import IsolatedDuckDBWarehouse
warehouse = IsolatedDuckDBWarehouse(DEFAULT_INPUT, preload=False)
limit = warehouse.data_limit_bytes
child, me = psutil.Process(warehouse.child_pid), psutil.Process()
print(json.dumps({"forked": child.ppid() == me.pid and child.cmdline() == me.cmdline(),
                  "rlimit": child.rlimit(psutil.RLIMIT_DATA)[0], "limit": limit,
                  "users": warehouse.query("SELECT count(*) FROM users", 1).rows[0][0]}))
warehouse.close()
"""


def test_a_process_with_no_other_thread_forks_the_child_and_caps_it() -> None:
    # GIVEN a one-shot command's process: one thread
    # WHEN it opens the warehouse
    out = subprocess.run([sys.executable, "-c", FORKING_PROCESS], cwd=REPO, check=True,
                         capture_output=True, text=True, timeout=60).stdout
    seen = json.loads(out.strip().splitlines()[-1])
    # THEN DuckDB runs in a child forked from it (no fresh interpreter), capped as ever
    assert seen["forked"] is True
    assert seen["rlimit"] == seen["limit"] > HEADROOM_BYTES
    assert seen["users"] == USERS


PRESTARTING_PROCESS = """
import json, sys, psutil
from executor.warehouse.isolated import prestart
prestart()
[early] = psutil.Process().children()
adopt = sys.argv[1] == "adopt"
if adopt:
    from executor.config import DEFAULT_INPUT
    from executor.warehouse.isolated import IsolatedDuckDBWarehouse
    warehouse = IsolatedDuckDBWarehouse(DEFAULT_INPUT, preload=False, memory_limit="96MB")
    limit = warehouse.data_limit_bytes
    child = psutil.Process(warehouse.child_pid)
    print(json.dumps({"adopted": child.pid == early.pid,
                      "rlimit": child.rlimit(psutil.RLIMIT_DATA)[0], "limit": limit,
                      "users": warehouse.query("SELECT count(*) FROM users", 1).rows[0][0]}))
    warehouse.close()
print(json.dumps({"early": early.pid}))
"""


@pytest.mark.parametrize("adopt", [True, False])
def test_a_child_forked_before_the_settings_are_read_is_the_one_the_warehouse_uses(
    adopt: bool,
) -> None:
    # GIVEN a one-shot command that forks its DuckDB child first thing (databot sql)
    # WHEN it then opens the warehouse, or exits without opening one
    done = subprocess.run([sys.executable, "-c", PRESTARTING_PROCESS,
                           "adopt" if adopt else "exit"], cwd=REPO, check=True,
                          capture_output=True, text=True, timeout=60)
    lines = [json.loads(line) for line in done.stdout.strip().splitlines()]
    # THEN the warehouse adopts that child, sends it its options and caps it as ever;
    # unadopted, the child ends with the command, quietly
    if adopt:
        assert lines[0]["adopted"] is True and lines[0]["users"] == USERS
        assert lines[0]["rlimit"] == lines[0]["limit"] > HEADROOM_BYTES
    assert done.stderr == ""
    assert not psutil.pid_exists(lines[-1]["early"]) or psutil.Process(
        lines[-1]["early"]).status() == psutil.STATUS_ZOMBIE


def test_a_process_with_threads_starts_a_fresh_interpreter_for_the_child() -> None:
    # GIVEN a process with another thread running (as the worker's)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    warehouse = IsolatedDuckDBWarehouse(DEFAULT_INPUT, preload=False)
    try:
        # WHEN it opens the warehouse THEN the child is a fresh interpreter, capped
        limit = warehouse.data_limit_bytes
        child = psutil.Process(warehouse.child_pid)
        assert CHILD_ENTRY in child.cmdline()
        assert child.rlimit(psutil.RLIMIT_DATA)[0] == limit
    finally:
        stop.set()
        warehouse.close()
