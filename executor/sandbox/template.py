"""The warm template: one process per local sandbox, started like a sandboxed child (a
clean environment, no inherited descriptors, its own session), that imports the heavy
libraries once and then forks a child per run.

It holds nothing secret: no worker environment, no worker descriptor, no code and no data
(a request carries only a scratch path, the limits and the environment, never the code or
its inputs, which the child reads from its scratch folder). It confines itself too before
importing anything: an unprivileged uid when asked, and Landlock limiting its reads to
what children may read and its writes to the scratch root.

Protocol (Unix SOCK_SEQPACKET, JSON messages):
- control socket, worker → template: a request, with three descriptors attached: the run's
  channel (a socket), and the write ends of its stdout and stderr pipes. EOF: the worker is
  gone, so every child is killed and the template removes its folder and exits.
- template → worker on the control socket, once: {"ready": pid}.
- channel, template → worker: {"pid": N} once forked, then {"returncode", "cpu_s"} once
  the child has exited and been reaped (its whole process group killed first, while the
  zombie still holds the group id). Worker → template: anything, or EOF, means "kill the
  run's process group now".

A child never returns into the template's loop: it starts its own session, puts its pipes
on stdout/stderr, closes the template's own descriptors (the control socket, every run's
channel; besides them the template holds only the library files it opened, such as
fonts), takes the run's folder and environment, and calls the same `run_confined` the cold
start runs, which confines it before any user code runs; then it exits.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import selectors
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Callable
from typing import Any

from executor.sandbox import confine

# Imported once here, then shared by every child (copy-on-write).
PRELOAD = (
    "numpy",
    "pandas",
    "pandas.plotting._matplotlib",  # DataFrame.plot imports it on first use
    "pyarrow.parquet",
    "pyarrow.dataset",  # read_table(path), which load() calls, imports it on first use
    "pyarrow.pandas_compat",
    "matplotlib.pyplot",
    "matplotlib.backends.backend_agg",
    "sklearn.ensemble",
    "sklearn.linear_model",
    "sklearn.model_selection",
    "sklearn.metrics",
    "sklearn.preprocessing",
    "pyseccomp",
)
MESSAGE_BYTES = 1 << 20
REQUEST_FDS = 3  # channel, stdout, stderr
CHILD_FAILED = 70

Run = Callable[[dict[str, Any]], int]


def serve(config: dict[str, Any], run: Run) -> int:
    """Confine the template, preload, report ready, then fork children until the worker
    goes away."""
    control = socket.socket(fileno=config["control"])
    confine.drop_privileges(config["uid"])
    # Children (same uid, no capabilities) must not write into the template's memory
    # through /proc/<pid>/mem, where no Landlock scoping stops them, nor into each other's.
    confine.make_undumpable()
    confine.restrict_filesystem(config["root"], config["readable"])
    for name in PRELOAD:
        with contextlib.suppress(ImportError):  # a slimmer image preloads less
            importlib.import_module(name)
    with contextlib.suppress(Exception):  # only speed depends on it
        _draw_once()
    # Leave what is loaded out of the children's garbage collections, which would otherwise
    # write to (and so copy) every page of it.
    gc.freeze()
    control.send(json.dumps({"ready": os.getpid()}).encode())
    _Loop(control, run).serve()
    # The worker is gone, so nobody else will remove this folder (the worker's own close
    # kills the template first and removes it itself).
    shutil.rmtree(os.getcwd(), ignore_errors=True)
    return 0


class _Loop:
    def __init__(self, control: socket.socket, run: Run) -> None:
        self.control = control
        self.run = run
        self.selector = selectors.DefaultSelector()
        self.children: dict[int, socket.socket | None] = {}  # pid → channel, None once closed
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)

    def serve(self) -> None:
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self.wake_w)
        self.selector.register(self.control, selectors.EVENT_READ)
        self.selector.register(self.wake_r, selectors.EVENT_READ)
        while True:
            for key, _ in self.selector.select():
                if key.fileobj is self.control:
                    if not self._accept():
                        self._kill_all()
                        return
                elif key.fileobj == self.wake_r:
                    os.read(self.wake_r, 4096)
                else:
                    self._on_channel(key.data)
            self._reap()

    def _accept(self) -> bool:
        """Fork a child for the next request; False when the worker has gone."""
        try:
            message, fds, _, _ = socket.recv_fds(self.control, MESSAGE_BYTES, REQUEST_FDS)
        except ConnectionError:
            return False
        if not message:
            return False
        if len(fds) != REQUEST_FDS:
            for fd in fds:
                os.close(fd)
            return True
        channel_fd, stdout, stderr = fds
        pid = _fork(json.loads(message), stdout, stderr, [channel_fd, *self._own_fds()], self.run)
        os.close(stdout)
        os.close(stderr)
        channel = socket.socket(fileno=channel_fd)
        self.children[pid] = channel
        self.selector.register(channel, selectors.EVENT_READ, pid)
        with contextlib.suppress(OSError):
            channel.send(json.dumps({"pid": pid}).encode())
        return True

    def _own_fds(self) -> list[int]:
        """The template's descriptors a child must not keep: the control socket, every
        run's channel, the wake-up pipe and the selector. (Its other descriptors are the
        library files it opened, such as fonts, which the children go on using.)"""
        channels = [channel.fileno() for channel in self.children.values() if channel]
        return [self.control.fileno(), self.wake_r, self.wake_w, self.selector.fileno(), *channels]

    def _on_channel(self, pid: int) -> None:
        """The worker asked for the run to be killed, or stopped listening: kill it either
        way (it is reaped, and reported, once it has died)."""
        channel = self.children.get(pid)
        if channel is None:
            return
        try:
            asked = channel.recv(64)
        except OSError:
            asked = b""
        if not asked:
            self._close(pid)
        _kill_group(pid)
        # A kill that comes before the child has made its own group (setsid, its first
        # step) finds no group: the child itself is killed too. It is not reaped yet, so
        # its pid cannot belong to anyone else.
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

    def _reap(self) -> None:
        for pid in list(self.children):
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
                continue
            _kill_group(pid)  # the zombie still reserves its group id
            _, status, usage = os.wait4(pid, 0)
            channel = self.children[pid]
            if channel is not None:
                report = {
                    "returncode": os.waitstatus_to_exitcode(status),
                    "cpu_s": usage.ru_utime + usage.ru_stime,
                }
                with contextlib.suppress(OSError):
                    channel.send(json.dumps(report).encode())
                self._close(pid)
            del self.children[pid]

    def _close(self, pid: int) -> None:
        channel = self.children[pid]
        if channel is not None:
            self.selector.unregister(channel)
            channel.close()
            self.children[pid] = None

    def _kill_all(self) -> None:
        for pid in self.children:
            _kill_group(pid)
        for pid in self.children:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _fork(
    request: dict[str, Any], stdout: int, stderr: int, template_fds: list[int], run: Run
) -> int:
    """Fork a child for `request`; returns its pid in the template and never returns in
    the child, which first closes `template_fds`."""
    template = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    status = CHILD_FAILED
    try:
        os.setsid()  # its own session and process group, which the template kills whole
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.dup2(stdout, 1)
        os.dup2(stderr, 2)
        for fd in {*template_fds, stdout, stderr}:
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        _fresh_process_state()
        config = {**request["config"], "parent": template}
        sys.argv = [sys.argv[0], json.dumps(config)]
        status = run(config)
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(status)


def _draw_once() -> None:
    """Draw and save one small figure, so the font and the renderer are loaded here
    (the better part of a second) rather than in every child that draws. It leaves no
    figure open: numbering in the children starts at 1 as in a fresh interpreter."""
    import io

    from matplotlib import pyplot

    pyplot.plot([1, 2], [2, 1])
    pyplot.title("warm-up")
    pyplot.savefig(io.BytesIO(), format="png")
    pyplot.close("all")


def _fresh_process_state() -> None:
    """What a fresh interpreter would not share with its siblings: the temporary folder
    (tempfile caches the template's) and numpy's global random state (Python's `random`
    reseeds itself after a fork; numpy does not)."""
    tempfile.tempdir = None
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()
