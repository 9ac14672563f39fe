"""The local backend: the code runs in a confined child process.

The child is a fresh interpreter started per run (cold), or, given a Template, a fork of
the warm template that already imported pandas, scikit-learn and matplotlib
(executor.sandbox.warm). Either way it gets a fresh, private scratch folder
(executor.sandbox.scratch: 0700, reached through a descriptor, removed afterwards), an
environment built from nothing, its own process group, and confines itself
(executor.sandbox.confine, through the one path bootstrap.run_confined) before the code
runs. This side enforces the wall clock, the output caps and the scratch size, and reads
what the code left behind without following anything out of the folder
(executor.sandbox.outputs).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import IO, Any, Protocol

from bot.observability import service_logger
from executor.sandbox import bootstrap, confine
from executor.sandbox.environment import child_environment, prepare_state, readable_paths
from executor.sandbox.limits import Limits
from executor.sandbox.outputs import MAX_DEPTH, MAX_ENTRIES, clip_notes, collect, disk_usage
from executor.sandbox.result import SandboxFailure, SandboxResult
from executor.sandbox.scratch import Scratch
from executor.sandbox.warm import Template

logger = service_logger()

INPUT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_POLL_S = 0.2
_ENVELOPE_BYTES = 16 * 1024 * 1024
_TITLE_CHARS = 200


class _Capture:
    """Keeps the first `cap` bytes of a stream and counts the rest without storing it."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.data = bytearray()
        self.truncated = False

    def feed(self, chunk: bytes) -> None:
        room = self.cap - len(self.data)
        if len(chunk) > room:
            self.truncated = True
        self.data += chunk[: max(room, 0)]

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


def protect_environment() -> None:
    """Make this process non-dumpable so a same-uid child cannot read /proc/<pid>/environ."""
    try:
        confine.make_undumpable()
    except confine.ConfinementError as e:
        logger.warning("%s", e)


class Child(Protocol):
    """A started run: its process group id and output pipes."""

    kind: str  # "cold" or "warm", for the logs
    pid: int
    stdout: IO[bytes]
    stderr: IO[bytes]

    def exited(self, wait_s: float) -> bool:
        """Whether it has exited (still unreaped, so its group id stays reserved), waiting
        up to wait_s seconds for it."""
        ...

    def stop(self) -> tuple[int, float]:
        """Kill its whole process group, reap it and close its pipes: (returncode, CPU
        seconds)."""
        ...


class ColdChild:
    """A fresh interpreter started for one run, a child of this process."""

    kind = "cold"

    def __init__(self, cwd: Path, env: dict[str, str], config: dict[str, Any]) -> None:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-s",
                "-P",
                "-u",
                "-m",
                "executor.sandbox.bootstrap",
                json.dumps({**config, "parent": os.getpid()}),
            ],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            close_fds=True,
            start_new_session=True,
        )
        assert proc.stdout is not None and proc.stderr is not None
        self.pid, self.stdout, self.stderr = proc.pid, proc.stdout, proc.stderr
        self._proc = proc

    def exited(self, wait_s: float) -> bool:
        if _exited(self.pid):
            return True
        time.sleep(wait_s)
        return False

    def stop(self) -> tuple[int, float]:
        try:
            _kill_group(self.pid)
            _, status, usage = os.wait4(self.pid, 0)
            # Reaped here: subprocess must not wait for this pid again, once it is reused.
            self._proc.returncode = os.waitstatus_to_exitcode(status)
        finally:
            self.stdout.close()
            self.stderr.close()
        return self._proc.returncode, usage.ru_utime + usage.ru_stime


class LocalSandbox:
    def __init__(
        self,
        limits: Limits | None = None,
        *,
        scratch_root: Path | None = None,
        run_as: int | None = None,
        template: Template | None = None,
    ) -> None:
        # run_as applies only when this process is root: the child switches to that uid
        # (and gid) so it holds no capabilities and RLIMIT_NPROC binds it. The interpreter
        # and packages must be readable by that user.
        # template: fork each run from this warm template (executor.sandbox.warm), which
        # has the heavy libraries imported; None, or a template that cannot serve: cold.
        self.limits = limits or Limits()
        self.scratch_root = scratch_root
        self.run_as = run_as
        self.template = template

    def run(
        self, code: str, inputs: Mapping[str, bytes], limits: Limits | None = None
    ) -> SandboxResult:
        """Run `code` with `inputs` (name → Parquet bytes) under `limits` (default: this
        sandbox's own)."""
        limits = limits or self.limits
        bad = [name for name in inputs if not INPUT_NAME.fullmatch(name)]
        if bad:
            raise ValueError(f"input names must be Python identifiers: {', '.join(bad)}")
        protect_environment()
        with Scratch.create(self.scratch_root, owner=self.run_as) as scratch:
            self._prepare(scratch, code, inputs)
            return self._execute(scratch, limits)

    def _prepare(self, scratch: Scratch, code: str, inputs: Mapping[str, bytes]) -> None:
        scratch.write_file(bootstrap.CODE_FILE, code.encode("utf-8"))
        for folder in (bootstrap.INPUTS_DIR, bootstrap.OUT_DIR):
            scratch.make_dir(folder)
        prepare_state(scratch)
        for name, data in inputs.items():
            scratch.write_file(f"{bootstrap.INPUTS_DIR}/{name}.parquet", data)

    def _start(self, scratch: Scratch, limits: Limits) -> Child:
        """The run's child: forked by the warm template when there is one serving, else a
        fresh interpreter. Both confine themselves through bootstrap.run_confined."""
        config = {"limits": limits.to_dict(), "uid": self.run_as, "readable": readable_paths()}
        env = child_environment(scratch.path)
        warm = self.template and self.template.fork(scratch.path, env, config)
        return warm or ColdChild(scratch.path, env, config)

    def _execute(self, scratch: Scratch, limits: Limits) -> SandboxResult:
        started = time.monotonic()
        child = self._start(scratch, limits)
        stdout, stderr = _Capture(limits.stdout_bytes), _Capture(limits.stderr_bytes)
        try:
            stopped = _supervise(child, scratch.fd, limits, stdout, stderr, started)
        finally:  # whatever happened here, the child does not outlive this call
            returncode, cpu_used = child.stop()
        envelope = _read_envelope(scratch)
        # The envelope is written by the code's own process: its notes are the code's too.
        envelope_notes = (envelope or {}).get("notes")
        notes = [str(n) for n in envelope_notes] if isinstance(envelope_notes, list) else []
        result = SandboxResult(
            stdout=stdout.text(),
            stderr=stderr.text(),
            stdout_truncated=stdout.truncated,
            stderr_truncated=stderr.truncated,
            elapsed_s=round(time.monotonic() - started, 3),
        )
        result.failure = stopped or _failure(envelope, returncode, cpu_used, limits)
        if envelope is not None:
            result.result = envelope.get("result")
            logger.debug("sandbox landlock_abi=<%s>", envelope.get("landlock_abi"))
        if result.failure is None or result.failure.kind == "exception":
            found = collect(
                scratch.fd,
                bootstrap.FIGURES_DIR,
                bootstrap.OUT_DIR,
                limits.out_bytes,
                limits.out_files,
            )
            titles = (envelope or {}).get("figure_titles") or {}
            if not isinstance(titles, dict):
                titles = {}
            result.figures = [
                replace(figure, title=str(titles.get(figure.name, ""))[:_TITLE_CHARS])
                for figure in found.figures
            ]
            result.files = found.files
            notes += found.notes
        result.notes = clip_notes(notes)
        logger.debug(
            "sandbox run | start=<%s> exit=<%s> failure=<%s> elapsed_s=<%s> cpu_s=<%.2f>",
            child.kind,
            returncode,
            result.failure and result.failure.kind,
            result.elapsed_s,
            cpu_used,
        )
        return result


def _supervise(
    child: Child,
    scratch: int,
    limits: Limits,
    stdout: _Capture,
    stderr: _Capture,
    started: float,
) -> SandboxFailure | None:
    """Pump the child's output until it exits; stop it at the wall clock or disk limit."""
    selector = selectors.DefaultSelector()
    for pipe, capture in ((child.stdout, stdout), (child.stderr, stderr)):
        os.set_blocking(pipe.fileno(), False)
        selector.register(pipe, selectors.EVENT_READ, capture)
    deadline = started + limits.wall_seconds
    next_disk_check = started
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return SandboxFailure(
                    "timeout", f"stopped after the {limits.wall_seconds:g}-second time limit"
                )
            if selector.get_map():
                for key, _ in selector.select(min(_POLL_S, remaining)):
                    chunk = os.read(key.fd, 65536)
                    if chunk:
                        key.data.feed(chunk)
                    else:
                        selector.unregister(key.fileobj)
            elif child.exited(min(_POLL_S / 4, remaining)):
                return None
            if time.monotonic() < next_disk_check:
                continue
            next_disk_check = time.monotonic() + _POLL_S
            used = disk_usage(scratch)
            if used is None or used > limits.scratch_bytes:
                return SandboxFailure(
                    "disk_limit",
                    f"stopped: the scratch directory grew past {limits.scratch_bytes} bytes, "
                    f"{MAX_ENTRIES} files or {MAX_DEPTH} levels of folders, or hid part of itself",
                )
    finally:
        selector.close()


def _exited(pid: int) -> bool:
    """Whether the child has exited, leaving it unreaped so its process group id stays
    reserved until _kill_group has run."""
    return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def _read_envelope(scratch: Scratch) -> dict[str, Any] | None:
    data = scratch.read_file(bootstrap.ENVELOPE, _ENVELOPE_BYTES)
    if data is None:
        return None
    try:
        envelope = json.loads(data)
    except ValueError:
        return None
    return envelope if isinstance(envelope, dict) else None


def _failure(
    envelope: dict[str, Any] | None, returncode: int, cpu_used: float, limits: Limits
) -> SandboxFailure | None:
    if returncode == -signal.SIGXCPU or (
        returncode == -signal.SIGKILL and cpu_used >= limits.cpu_seconds - 0.5
    ):
        return SandboxFailure("cpu_limit", f"stopped at the {limits.cpu_seconds}-second CPU limit")
    if returncode < 0:
        name = signal.Signals(-returncode).name
        return SandboxFailure("killed", f"the process was killed by {name}")
    if envelope is None:
        return SandboxFailure(
            "exited", f"the code ended the process (exit status {returncode}) before it finished"
        )
    failure = envelope.get("failure")
    if not isinstance(failure, dict):
        return None
    return SandboxFailure(
        kind=str(failure.get("kind", "exception")),
        message=str(failure.get("message", "")),
        type=failure.get("type"),
        traceback=failure.get("traceback"),
    )
