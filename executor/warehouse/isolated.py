"""The DuckDB warehouse in a child process whose memory the operating system caps.

DuckDB's `memory_limit` governs its buffers, not the values an expression builds: a
`||` chain over a large aggregate, or any function the SQL guard lets through, can
allocate outside it. So the worker never runs DuckDB in its own process. A child process
holds the `DuckDBWarehouse`, and once its tables are loaded it caps its own data segment
(RLIMIT_DATA) at what it uses then, plus `memory_limit`, plus `HEADROOM_BYTES`. An
allocation past the cap fails inside DuckDB as an out-of-memory error for that statement;
the child keeps serving the others, and the worker process, with every other job in it,
is untouched. Answers larger than `MAX_REPLY_BYTES` are refused in the child, so no
single reply can swell the worker either.

Calls from the worker's job threads run concurrently: each is sent with an id, the child
runs it on its own thread (DuckDB cursor), and a reader thread hands each reply to its
caller. Should the child die anyway, the calls in flight fail with a `WarehouseError` and
the next call starts a fresh child.

The child is forked when the opening process has no other thread (a one-shot command: it
inherits the modules imported so far and imports DuckDB while the command goes on), and
is a fresh interpreter otherwise (the worker, whose threads' locks a fork would copy).
`databot sql` forks it as soon as it knows the warehouse is DuckDB (`prestart`): the child
imports DuckDB, then waits for the options the warehouse opened later sends it.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import pickle
import queue
import re
import resource
import socket
import subprocess
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, Protocol

from bot.observability import service_logger
from executor.errors import WarehouseError
from executor.warehouse.base import ExportResult, FetchedRows, ResultColumn, TableInfo
from executor.warehouse.cost import NO_LIMITS, CostLimits, PlanEstimate
from executor.warehouse.schema_doc import SchemaDoc

logger = service_logger()

# Room past memory_limit for DuckDB's own untracked vectors (2,048 rows per thread) and the
# Python objects of one reply.
HEADROOM_BYTES = 256 << 20
# Largest pickled reply the child sends back (a 10,000-row preview is a few MB).
MAX_REPLY_BYTES = 64 << 20
# Calls the child runs at once (the worker runs at most a few jobs at a time; more wait).
CALL_THREADS = 16
# A call gets this long past the statement timeout(s) it may run before the child is
# presumed stuck and replaced.
STUCK_AFTER_S = 30.0

_UNITS = {
    "": 1, "B": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3, "TB": 1000**4,
    "KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40,
}  # fmt: skip
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?I?B?)\s*$", re.IGNORECASE)


def size_bytes(text: str) -> int:
    """`128MB`, `1GiB`, `512 MB` → bytes, as DuckDB reads memory_limit."""
    match = _SIZE.match(text)
    if match is None or match.group(2).upper() not in _UNITS:
        raise ValueError(f"not a memory size: {text!r} (expected e.g. 128MB or 1GiB)")
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


class IsolatedDuckDBWarehouse:
    """A `Warehouse` whose DuckDB runs in a memory-capped child process."""

    dialect = "duckdb"
    database_user = "duckdb"

    def __init__(
        self,
        path: Path,
        *,
        schema_doc: SchemaDoc | None = None,
        statement_timeout_s: float = 60.0,
        memory_limit: str = "128MB",
        preload: bool = True,
        cost_limits: CostLimits = NO_LIMITS,
    ) -> None:
        self._options: dict[str, Any] = {
            "path": path,
            "schema_doc": schema_doc,
            "statement_timeout_s": statement_timeout_s,
            "memory_limit": memory_limit,
            "preload": preload,
            "cost_limits": cost_limits,
        }
        # Known here too, so that a warehouse with no limit asks its child nothing.
        self.cost_limits = cost_limits.without_cost()
        self.cap_bytes = size_bytes(memory_limit) + HEADROOM_BYTES
        # query() may run a count after its fetch: two statements.
        self._wait_s = 2 * statement_timeout_s + STUCK_AFTER_S
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self._child: _Child | None = None
        self._closed = False
        self._data_limit_bytes = 0
        # Started now; it opens the warehouse while the caller goes on, and the first call
        # waits for it (and reports a failed start).
        with self._lock:
            self._child = self._spawn()

    @property
    def data_limit_bytes(self) -> int:
        """The child's data-segment cap (RLIMIT_DATA), set once its tables are loaded."""
        self._start()
        return self._data_limit_bytes

    @property
    def child_pid(self) -> int | None:
        """The process running DuckDB (for the operator's logs and the tests' probes)."""
        child = self._child
        return child.process.pid if child is not None and child.alive else None

    def tables(self, refresh: bool = False) -> list[TableInfo]:
        tables: list[TableInfo] = self._call("tables", refresh)
        return tables

    def with_samples(self, tables: Sequence[TableInfo]) -> list[TableInfo]:
        sampled: list[TableInfo] = self._call("with_samples", list(tables))
        return sampled

    def query(self, sql: str, max_rows: int, params: dict[str, Any] | None = None) -> FetchedRows:
        result: FetchedRows = self._call("query", sql, max_rows, params)
        return result

    def export(self, sql: str, path: Path, params: dict[str, Any] | None = None) -> ExportResult:
        result: ExportResult = self._call("export", sql, path, params)
        return result

    def result_columns(self, sql: str, params: dict[str, Any] | None = None) -> list[ResultColumn]:
        columns: list[ResultColumn] = self._call("result_columns", sql, params)
        return columns

    def estimate(self, sql: str, params: dict[str, Any] | None = None) -> PlanEstimate | None:
        if not self.cost_limits.any:
            return None
        estimate: PlanEstimate | None = self._call("estimate", sql, params)
        return estimate

    def close(self) -> None:
        with self._lock:
            child, self._child, self._closed = self._child, None, True
        if child is not None:
            child.stop()

    def _start(self) -> _Child:
        """A running child, waited for until it is ready (the current one, or a fresh
        one): call under no lock."""
        with self._lock:
            if self._closed:
                raise WarehouseError("the warehouse is closed")
            child = self._child
            if child is None or not child.alive:
                child = self._child = self._spawn()
            if not child.ready:
                self._await_ready(child)
            return child

    def _spawn(self) -> _Child:
        """A child process (the one `prestart` forked, if any), sent its options: it opens
        the warehouse while the caller goes on."""
        child = _prestarted.pop() if _prestarted else _new_child()
        child.connection.send((self._options, self.cap_bytes))
        return child

    def _await_ready(self, child: _Child) -> None:
        try:
            ready = (
                child.connection.recv()
                if child.connection.poll(self._wait_s)
                else ("error", "no start-up reply")
            )
        except (EOFError, OSError):
            ready = ("error", f"the process exited with code {child.process.wait()}")
        if ready[0] != "ready":
            child.stop()
            self._child = None
            raise WarehouseError(f"the DuckDB warehouse did not start: {ready[1]}")
        threading.Thread(target=self._read, args=(child,), daemon=True).start()
        child.ready = True
        self._data_limit_bytes = int(ready[1])
        logger.debug(
            "duckdb runs in process %s, data segment capped at %s MB",
            child.process.pid,
            self._data_limit_bytes >> 20,
        )

    def _call(self, method: str, *args: Any) -> Any:
        child = self._start()
        call_id = next(self._ids)
        future: Future[Any] = Future()
        with child.lock:
            child.pending[call_id] = future
        try:
            child.send((call_id, method, args))
            return future.result(timeout=self._wait_s)
        except FutureTimeout as e:
            logger.warning("duckdb child gave no answer in %.0f s; replacing it", self._wait_s)
            child.stop()
            raise WarehouseError("the warehouse stopped answering; the query was cancelled") from e
        except (OSError, EOFError) as e:
            raise WarehouseError("the warehouse process stopped; try the query again") from e
        finally:
            with child.lock:
                child.pending.pop(call_id, None)

    def _read(self, child: _Child) -> None:
        while True:
            try:
                call_id, ok, value = pickle.loads(child.connection.recv_bytes())
            except (OSError, EOFError):
                break
            with child.lock:
                future = child.pending.get(call_id)
            if future is None:
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(WarehouseError(value))
        if child.alive:  # not stopped on purpose
            child.alive = False
            logger.warning("duckdb child process exited with code %s", child.process.wait())
        with child.lock:
            stranded = list(child.pending.values())
        for future in stranded:
            if not future.done():
                future.set_exception(
                    WarehouseError("the warehouse process stopped while running the query")
                )


# A child forked before its warehouse's options were known (`prestart`), for the next
# IsolatedDuckDBWarehouse to adopt.
_prestarted: list[_Child] = []


def prestart() -> None:
    """Fork the DuckDB child now, at a one-shot command's start, so that it imports DuckDB
    while the command reads its settings and imports the SQL guard; the next warehouse
    opened adopts it. Nothing happens in a process with other threads (it would not fork)
    or when a child is already waiting."""
    if not _prestarted and _os_threads() == 1:
        _prestarted.append(_new_child())


def _new_child() -> _Child:
    ours, theirs = socket.socketpair()
    process: _Process
    if _os_threads() == 1:
        # A process with no other thread (a one-shot command) forks: the child keeps
        # the modules already imported and skips an interpreter's start.
        process = _fork(theirs, ours)
    else:
        # A fresh interpreter: a fork would copy locks the worker's threads hold.
        process = subprocess.Popen(
            [sys.executable, "-c", CHILD_ENTRY, str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
        )
    theirs.close()
    return _Child(process, Connection(ours.detach()))


class _Process(Protocol):
    """What a child needs of its process: Popen's, or a forked one's (`_Forked`)."""

    @property
    def pid(self) -> int: ...

    def kill(self) -> None: ...

    def wait(self, timeout: float | None = None) -> int | None: ...


class _Forked:
    """A child forked from this process, seen through Popen's pid, kill and wait."""

    def __init__(self, process: BaseProcess) -> None:
        self._process = process

    @property
    def pid(self) -> int:
        return int(self._process.pid or 0)

    def kill(self) -> None:
        self._process.kill()

    def wait(self, timeout: float | None = None) -> int | None:
        self._process.join(timeout)
        return self._process.exitcode


def _fork(theirs: socket.socket, ours: socket.socket) -> _Forked:
    # Daemonic: it ends with this process, as the fresh interpreter does when its socket
    # closes.
    process = multiprocessing.get_context("fork").Process(
        target=_serve_forked, args=(theirs.fileno(), ours), name="duckdb", daemon=True
    )
    process.start()
    return _Forked(process)


def _serve_forked(fd: int, parents_end: socket.socket) -> None:
    # Without the parent's end, the child sees the end of its socket when the parent exits.
    parents_end.close()
    serve(fd)


class _Child:
    def __init__(self, process: _Process, connection: Connection) -> None:
        self.process = process
        self.connection = connection
        self.alive = True
        # Its start-up reply has come: it serves calls.
        self.ready = False
        # Calls sent to this child and not yet answered, by id.
        self.pending: dict[int, Future[Any]] = {}
        self.lock = threading.Lock()

    def send(self, message: tuple[Any, ...]) -> None:
        with self.lock:
            self.connection.send(message)

    def stop(self) -> None:
        self.alive = False
        self.process.kill()
        self.process.wait(timeout=10)
        self.connection.close()


CHILD_ENTRY = "import sys; from executor.warehouse.isolated import serve; serve(int(sys.argv[1]))"


def serve(fd: int) -> None:
    """The child: open the warehouse, start its call threads, cap memory, then serve."""
    from executor.warehouse.duckdb import DuckDBWarehouse

    connection = Connection(fd)
    try:
        options, cap_bytes = connection.recv()
    except EOFError:
        return  # prestarted, and its process ended without opening a warehouse
    calls: queue.Queue[tuple[int, str, tuple[Any, ...]] | None] = queue.Queue()
    send_lock = threading.Lock()
    try:
        warehouse = DuckDBWarehouse(**options)
        warehouse.tables()
        # Started before the cap: at the cap a new thread's stack could not be mapped.
        for _ in range(CALL_THREADS):
            threading.Thread(
                target=_run_calls, args=(warehouse, calls, connection, send_lock), daemon=True
            ).start()
        # What the child holds now (interpreter, DuckDB, tables, threads) plus the cap.
        limit = _data_segment_bytes() + cap_bytes
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    except Exception as e:  # the parent reports it as the warehouse failing to open
        connection.send(("error", str(e) or type(e).__name__))
        return
    connection.send(("ready", limit))
    while True:
        try:
            calls.put(connection.recv())
        except (EOFError, OSError):
            break
    warehouse.close()


def _run_calls(
    warehouse: Any,
    calls: queue.Queue[tuple[int, str, tuple[Any, ...]] | None],
    connection: Connection,
    send_lock: threading.Lock,
) -> None:
    while (call := calls.get()) is not None:
        call_id, method, args = call
        try:
            reply = pickle.dumps((call_id, True, getattr(warehouse, method)(*args)))
            if len(reply) > MAX_REPLY_BYTES:
                reply = pickle.dumps(
                    (
                        call_id,
                        False,
                        f"the result is larger than {MAX_REPLY_BYTES >> 20} MB:"
                        " select fewer or shorter columns",
                    )
                )
        except MemoryError:
            reply = pickle.dumps(
                (call_id, False, "query stopped: it needs more memory than the warehouse allows")
            )
        except Exception as e:
            reply = pickle.dumps((call_id, False, str(e) or type(e).__name__))
        with send_lock:
            connection.send_bytes(reply)


def _os_threads() -> int:
    """This process's threads as the kernel counts them: Python's, and native ones (a BLAS
    pool, DuckDB's) that `threading` does not see."""
    return _proc_status("Threads")


def _data_segment_bytes() -> int:
    return _proc_status("VmData") * 1024  # in kB there


def _proc_status(field: str) -> int:
    """A number from /proc/self/status."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise OSError(f"no {field} in /proc/self/status")
