"""The worker's side of the warm template (executor.sandbox.template): start it with
nothing of the worker's, ask it to fork a child per run, and follow that child.

The template is started the way a cold child is (a fresh interpreter, the child's
environment built from nothing, close_fds, its own session, stdin/stdout/stderr on
/dev/null) in a private folder of its own, and never forked from the worker, whose memory
holds its secrets. A run that finds the template dead, hung, or not starting, gets None
back and runs cold instead; a new template is started at once for the runs after it.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import weakref
from pathlib import Path
from typing import IO, Any

from bot.observability import service_logger
from executor.sandbox.environment import child_environment, prepare_state, readable_paths
from executor.sandbox.scratch import Scratch
from executor.sandbox.template import MESSAGE_BYTES

logger = service_logger()

# Generous: the template imports pandas, scikit-learn and matplotlib on a busy machine.
READY_S = 60.0
# A fork takes milliseconds; the reply waits only behind other runs' forks.
REPLY_S = 30.0


class WarmChild:
    """A run's child, forked by the template: its output pipes, and the channel on which
    the template reports its pid, then its exit (and takes kill requests)."""

    kind = "warm"

    def __init__(self, pid: int, channel: socket.socket, stdout: int, stderr: int) -> None:
        self.pid = pid
        self.stdout: IO[bytes] = open(stdout, "rb", buffering=0)  # noqa: SIM115
        self.stderr: IO[bytes] = open(stderr, "rb", buffering=0)  # noqa: SIM115
        self._channel = channel
        self._status: tuple[int, float] | None = None

    def exited(self, wait_s: float) -> bool:
        """Whether the template has reported the child's exit, waiting up to wait_s for it
        (the template holds the zombie until it has killed the child's process group, so
        the group id is never reused early)."""
        if self._status is None and select.select([self._channel], [], [], wait_s)[0]:
            self._status = self._receive_status()
        return self._status is not None

    def stop(self) -> tuple[int, float]:
        """Kill the child's process group (through the template, its parent) and wait for
        its exit: (returncode, CPU seconds)."""
        try:
            if self._status is None:
                with contextlib.suppress(OSError):
                    self._channel.send(b"kill")
                self._channel.settimeout(REPLY_S)
                self._status = self._receive_status()
            return self._status
        finally:
            self._channel.close()
            self.stdout.close()
            self.stderr.close()

    def _receive_status(self) -> tuple[int, float]:
        try:
            data = self._channel.recv(MESSAGE_BYTES)
        except OSError:
            data = b""
        if not data:  # the template died; its children die with it (PR_SET_PDEATHSIG)
            return -signal.SIGKILL, 0.0
        report = json.loads(data)
        return int(report["returncode"]), float(report["cpu_s"])


class Template:
    """One template process, started on first use and again after it dies, stopped by
    close(), when the Template is dropped, or when this process exits. One serves every
    sandbox of a worker whose scratch folders are under `scratch_root` (the system's
    temporary folder by default) and whose children run as `run_as`."""

    def __init__(self, scratch_root: Path | None = None, run_as: int | None = None) -> None:
        self.scratch_root = scratch_root
        self.run_as = run_as
        self._lock = threading.Lock()
        self._running = _Running()
        # Not self.close: the finalizer must not keep this object alive.
        weakref.finalize(self, self._running.stop)

    @property
    def pid(self) -> int | None:
        return self._running.proc.pid if self._running.proc is not None else None

    def fork(self, cwd: Path, env: dict[str, str], config: dict[str, Any]) -> WarmChild | None:
        """A child running bootstrap's `run_confined(config)` in `cwd` with `env`, or None
        when the template cannot serve (the caller then runs cold)."""
        channel, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        request = json.dumps({"cwd": str(cwd), "env": env, "config": config}).encode()
        with self._lock:
            try:
                control = self._serving()
            except OSError as e:  # could not start one: this run goes cold
                logger.warning("warm sandbox template could not start: %s", e)
                control = None
            proc = self._running.proc
        try:
            if control is None:
                raise ConnectionError("the template is not serving yet")
            # One atomic SOCK_SEQPACKET message: concurrent runs send without a lock, and
            # the single-threaded template forks them one at a time.
            socket.send_fds(control, [request], [theirs.fileno(), out_w, err_w])
            channel.settimeout(REPLY_S)
            reply = channel.recv(MESSAGE_BYTES)
            if not reply:
                raise ConnectionError("the template closed the run's channel")
            channel.settimeout(None)
            pid = int(json.loads(reply)["pid"])
        except (OSError, ValueError, KeyError) as e:
            logger.warning("warm sandbox unavailable, running cold: %s", e)
            for fd in (out_r, err_r):
                os.close(fd)
            channel.close()
            with self._lock, contextlib.suppress(OSError):
                if control is not None and self._running.proc is proc:
                    self._replace(f"it failed a request: {e}")
            return None
        finally:
            theirs.close()
            os.close(out_w)
            os.close(err_w)
        return WarmChild(pid, channel, out_r, err_r)

    def close(self) -> None:
        """Stop the template (its children die with it) and remove its folder."""
        with self._lock:
            self._running.stop()

    def _serving(self) -> socket.socket | None:
        """The control socket of a template that is up and ready; None when it has died
        (a new one is started for the next run). The first use waits for the first template
        to be ready. Called with the lock held."""
        if self._running.proc is None:
            self._start()
        elif self._running.proc.poll() is not None:
            self._replace(f"it exited with status {self._running.proc.returncode}")
            return None
        if not self._running.ready and self._running.control is not None:
            self._running.control.settimeout(READY_S)
            try:
                ready = self._running.control.recv(MESSAGE_BYTES)
            except OSError:
                ready = b""
            if not ready:
                self._replace("it did not start")
                return None
            self._running.control.settimeout(None)
            self._running.ready = True
            logger.debug("warm sandbox template ready | pid=<%s>", self.pid)
        return self._running.control

    def _start(self) -> None:
        """Start a template; it becomes ready in the background (its imports take seconds)."""
        folder = Scratch.create(self.scratch_root, owner=self.run_as)
        try:
            prepare_state(folder)
            control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            with theirs:
                serve = {
                    "control": theirs.fileno(),
                    "uid": self.run_as,
                    "readable": readable_paths(),
                    "root": str(self.scratch_root or tempfile.gettempdir()),
                }
                command = ["-s", "-P", "-u", "-m", "executor.sandbox.bootstrap"]
                proc = subprocess.Popen(
                    [sys.executable, *command, json.dumps({"serve": serve})],
                    cwd=folder.path,
                    env=child_environment(folder.path),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    close_fds=True,
                    pass_fds=(theirs.fileno(),),
                    start_new_session=True,
                )
        except BaseException:
            folder.remove()
            raise
        self._running.proc, self._running.control, self._running.folder = proc, control, folder

    def _replace(self, why: str) -> None:
        """Stop this template and start the next one straight away, so it is warm by the
        next run."""
        logger.warning("warm sandbox template restarted: %s", why)
        self._running.stop()
        self._start()



class _Running:
    """The template process of the moment, kept apart from its Template so that dropping
    the Template stops it."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.control: socket.socket | None = None
        self.folder: Scratch | None = None
        self.ready = False

    def stop(self) -> None:
        if self.proc is not None:
            _kill_group(self.proc.pid)
            self.proc.wait()
            self.proc = None
        if self.control is not None:
            self.control.close()
            self.control = None
        if self.folder is not None:
            self.folder.remove()
            self.folder = None
        self.ready = False


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
