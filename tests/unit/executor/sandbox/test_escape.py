"""Escape and abuse attempts: each one contained, reported as an error, this process unharmed."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from executor.sandbox import Limits, SandboxResult, confine, local
from executor.sandbox.limits import MB
from executor.sandbox.local import Child, LocalSandbox
from executor.sandbox.warm import Template
from tests.support.sandbox import RunCode, wait_for


def failed_with(result: SandboxResult, kind: str) -> str:
    """The failure's description, after checking the run failed the expected way."""
    assert result.failure is not None, f"expected a {kind} failure, got ok: {result.stdout!r}"
    assert result.failure.kind == kind, result.failure
    return result.failure.describe()


def test_environment_holds_no_secrets(monkeypatch: pytest.MonkeyPatch, run_code: RunCode) -> None:
    # GIVEN secrets in this process's environment
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-secret-value")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-secret-value")
    # WHEN the code dumps its environment
    result = run_code("import os\nresult = dict(os.environ)")
    # THEN it sees only the sandbox's own short list
    assert result.ok, result.failure
    assert set(result.result) == {
        "PATH",
        "HOME",
        "TMPDIR",
        "LANG",
        "MPLBACKEND",
        "MPLCONFIGDIR",
        "PYTHONPATH",
        "PYTHONDONTWRITEBYTECODE",
        "JOBLIB_MULTIPROCESSING",
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "NUMEXPR_NUM_THREADS",
        "LOKY_MAX_CPU_COUNT",
    }
    assert "secret-value" not in repr(result.result)


# A worker script's sandbox, started either way.
WORKER_SANDBOX = {
    "cold": "LocalSandbox(limits)",
    "warm": "LocalSandbox(limits, template=Template())",
}


@pytest.mark.parametrize("start", list(WORKER_SANDBOX))
def test_worker_environ_in_proc_is_unreadable(start: str) -> None:
    # GIVEN a worker process started with a secret in its (initial) environment
    worker = textwrap.dedent(f"""
        import json, os
        from executor.sandbox import Limits
        from executor.sandbox.local import LocalSandbox
        from executor.sandbox.warm import Template
        limits = Limits()
        attempt = f"print(open('/proc/{{os.getpid()}}/environ').read())"
        print(json.dumps({WORKER_SANDBOX[start]}.run(attempt, {{}}).to_dict()))
    """)
    env = {**os.environ, "DATABOT_TEST_SECRET": "s3cr3t-" + uuid.uuid4().hex}
    # WHEN its sandboxed child reads /proc/<worker>/environ (its parent's, when cold)
    done = subprocess.run(
        [sys.executable, "-c", worker], env=env, capture_output=True, text=True, timeout=120
    )
    # THEN the read is refused and the secret appears nowhere
    assert done.returncode == 0, done.stderr
    assert env["DATABOT_TEST_SECRET"] not in done.stdout
    assert '"type": "PermissionError"' in done.stdout


def test_the_parents_memory_cannot_be_opened(run_code: RunCode) -> None:
    # GIVEN code that tries to open its parent's memory (the worker's when cold, the
    # template's when warm) for writing, and then for reading
    code = (
        "import os\nfound = []\nfor mode in ('r+b', 'rb'):\n"
        "    try:\n        open(f'/proc/{os.getppid()}/mem', mode)\n"
        "        found.append('opened')\n"
        "    except OSError as e:\n        found.append(type(e).__name__)\n"
        "result = found"
    )
    # THEN both are refused
    result = run_code(code)
    assert result.ok, result.failure
    assert result.result == ["PermissionError", "PermissionError"]


def test_subclass_walk_to_os_system_runs_nothing(tmp_path: Path, run_code: RunCode) -> None:
    marker = tmp_path / "pwned"
    code = textwrap.dedent(f"""
        wrap = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == '_wrap_close'][0]
        system = wrap.__init__.__globals__['system']
        status = system('touch {marker}')
        assert status == 0, f'os.system failed with status {{status}}'
    """)
    description = failed_with(run_code(code), "exception")
    assert "os.system failed" in description
    assert not marker.exists()


@pytest.mark.parametrize(
    "code",
    [
        "import subprocess\nsubprocess.run(['id'])",
        "import os\nos.fork()",
        "import os\nos.execv('/bin/true', ['true'])",
        "import os\nos.posix_spawn('/bin/true', ['true'], {})",
        "import multiprocessing\nmultiprocessing.Process(target=print).start()",
    ],
    ids=["subprocess", "fork", "exec", "posix_spawn", "multiprocessing"],
)
def test_no_new_processes_or_programs(code: str, run_code: RunCode) -> None:
    description = failed_with(run_code(code), "exception")
    assert "Operation not permitted" in description


def test_fork_bomb_is_contained(tmp_path: Path, template: Template | None) -> None:
    # GIVEN a fork bomb run in a scratch folder under tmp_path
    code = "import os\nwhile True:\n    os.fork()"
    sandbox = LocalSandbox(Limits(wall_seconds=10), scratch_root=tmp_path, template=template)
    # WHEN it runs
    description = failed_with(sandbox.run(code, {}), "exception")
    # THEN the first fork fails, and no process is left working in that folder (counting
    # this run's processes only: the machine is shared with other test runs)
    assert "PermissionError" in description
    assert _processes_under(tmp_path) == []


def _processes_under(folder: Path) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            if os.readlink(f"/proc/{entry}/cwd").startswith(str(folder)):
                found.append(int(entry))
        except (OSError, ValueError):
            continue
    return found


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.setblocking(False)
    yield server
    server.close()


def test_loopback_connection_is_refused(listener: socket.socket, run_code: RunCode) -> None:
    port = listener.getsockname()[1]
    code = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)"
    description = failed_with(run_code(code), "exception")
    assert "PermissionError" in description
    with pytest.raises(BlockingIOError):
        listener.accept()  # nothing ever connected


@pytest.mark.parametrize(
    "address", ["169.254.170.2", "169.254.169.254"], ids=["credentials", "metadata"]
)
def test_aws_endpoints_are_unreachable(address: str, run_code: RunCode) -> None:
    code = f"import urllib.request\nurllib.request.urlopen('http://{address}/', timeout=2)"
    description = failed_with(run_code(code), "exception")
    assert "Operation not permitted" in description


@pytest.mark.parametrize(
    "family",
    ["AF_INET6", "AF_NETLINK", "AF_PACKET"],
)
def test_other_socket_families_are_refused(family: str, run_code: RunCode) -> None:
    code = f"import socket\nsocket.socket(socket.{family})"
    description = failed_with(run_code(code), "exception")
    assert "PermissionError" in description


def test_udp_is_refused_too(run_code: RunCode) -> None:
    code = "import socket\nsocket.socket(socket.AF_INET, socket.SOCK_DGRAM)"
    assert "PermissionError" in failed_with(run_code(code), "exception")


def test_unix_sockets_still_work(run_code: RunCode) -> None:
    code = "import socket\na, b = socket.socketpair()\na.send(b'hi')\nresult = b.recv(2).decode()"
    result = run_code(code)
    assert result.ok and result.result == "hi"


def test_signalling_the_parent_is_refused(run_code: RunCode) -> None:
    code = "import os, signal\nos.kill(os.getppid(), signal.SIGTERM)"
    assert "PermissionError" in failed_with(run_code(code), "exception")


def test_infinite_loop_is_stopped_at_the_wall_clock(run_code: RunCode) -> None:
    result = run_code("while True:\n    pass", limits=Limits(wall_seconds=1.5))
    assert "1.5-second time limit" in failed_with(result, "timeout")
    assert result.elapsed_s < 5


def test_sleeping_forever_is_stopped_at_the_wall_clock(run_code: RunCode) -> None:
    result = run_code("import time\ntime.sleep(3600)", limits=Limits(wall_seconds=1))
    failed_with(result, "timeout")


def test_cpu_limit_stops_a_busy_loop(run_code: RunCode) -> None:
    result = run_code("while True:\n    pass", limits=Limits(cpu_seconds=1, wall_seconds=20))
    assert "CPU limit" in failed_with(result, "cpu_limit")


@pytest.mark.parametrize(
    "code",
    ["block = bytearray(10 * 1024 ** 3)", "import numpy\nblock = numpy.ones(10 * 1024 ** 3 // 8)"],
    ids=["bytearray", "numpy"],
)
def test_ten_gigabyte_allocation_is_a_memory_error(code: str, run_code: RunCode) -> None:
    assert "MemoryError" in failed_with(run_code(code), "exception")


def test_a_file_past_the_size_limit_cannot_be_written(run_code: RunCode) -> None:
    code = "with open('big.bin', 'wb') as f:\n    f.write(b'x' * (3 * 1024 * 1024))"
    description = failed_with(run_code(code, limits=Limits(file_size_bytes=MB)), "exception")
    assert "File too large" in description


def test_filling_the_disk_with_many_files_is_stopped(run_code: RunCode) -> None:
    code = "i = 0\nwhile True:\n    open(f'f{i}', 'wb').write(b'x' * 1024 * 1024)\n    i += 1"
    limits = Limits(file_size_bytes=2 * MB, scratch_bytes=8 * MB, wall_seconds=20)
    result = run_code(code, limits=limits)
    assert "scratch directory" in failed_with(result, "disk_limit")


def test_a_gigabyte_of_stdout_is_not_kept(run_code: RunCode) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    code = (
        "import sys\nchunk = 'x' * (1024 * 1024)\n"
        "for _ in range(1024):\n    sys.stdout.write(chunk)"
    )
    result = run_code(code)
    assert result.ok, result.failure
    assert len(result.stdout) == 64 * 1024 and result.stdout_truncated
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 100 * 1024


@pytest.mark.skipif(confine.landlock_abi() < 1, reason="Landlock is not available here")
@pytest.mark.parametrize(
    "target",
    ["/tmp/databot-escape-{uid}", str(Path(__file__).parent / "escape-{uid}")],
    ids=["tmp", "repository"],
)
def test_writing_outside_the_scratch_directory_is_refused(target: str, run_code: RunCode) -> None:
    path = Path(target.format(uid=uuid.uuid4().hex))
    description = failed_with(run_code(f"open({str(path)!r}, 'w').write('x')"), "exception")
    assert "Permission denied" in description
    assert not path.exists()


@pytest.mark.skipif(confine.landlock_abi() < 1, reason="Landlock is not available here")
def test_files_outside_the_allowed_paths_are_unreadable(run_code: RunCode) -> None:
    # This test file is in the repository, which the sandbox is not given.
    description = failed_with(run_code(f"open({__file__!r}).read()"), "exception")
    assert "Permission denied" in description


def test_symlink_in_out_is_not_followed(run_code: RunCode) -> None:
    code = "import os\nos.symlink('/etc/passwd', 'out/passwd')\nos.symlink('/etc', 'out/etc')"
    result = run_code(code)
    assert result.ok, result.failure
    assert result.files == []
    assert "out/passwd: a symlink, not followed" in result.notes
    assert "out/etc: a symlink, not followed" in result.notes


def test_a_huge_out_file_is_left_out(run_code: RunCode) -> None:
    code = (
        "(OUT / 'huge.bin').write_bytes(b'x' * (3 * 1024 * 1024))\n"
        "(OUT / 'ok.txt').write_text('ok')"
    )
    result = run_code(code, limits=Limits(out_bytes=MB))
    assert result.ok, result.failure
    assert [f.name for f in result.files] == ["ok.txt"]
    assert any(note.startswith("out/huge.bin: left out") for note in result.notes)


def test_too_many_out_files_are_left_out(run_code: RunCode) -> None:
    code = "for i in range(5):\n    (OUT / f'{i}.txt').write_text(str(i))"
    result = run_code(code, limits=Limits(out_files=3))
    assert [f.name for f in result.files] == ["0.txt", "1.txt", "2.txt"]
    assert "out/3.txt: left out, over the 3-file limit" in result.notes


def test_without_confinement_nothing_runs(run_code: RunCode) -> None:
    # An open-files limit no kernel grants makes confinement fail: the code must not run.
    result = run_code("print('ran')", limits=Limits(open_files=2**40))
    assert "not confined" in failed_with(result, "sandbox")
    assert result.stdout == ""


def test_missing_seccomp_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyseccomp", None)
    with pytest.raises(confine.ConfinementError, match="seccomp is unavailable"):
        confine.block_syscalls()


def test_root_without_landlock_is_refused() -> None:
    with pytest.raises(confine.ConfinementError, match="SANDBOX_UID"):
        confine.check_containment(euid=0, landlock=0)
    confine.check_containment(euid=0, landlock=1)
    confine.check_containment(euid=10001, landlock=0)


@pytest.mark.skipif(os.geteuid() != 0, reason="only a root worker switches users")
def test_a_root_worker_can_hand_the_code_to_another_user(template: Template | None) -> None:
    sandbox = LocalSandbox(Limits(), run_as=65534, template=template)
    result = sandbox.run("import os\nresult = [os.getuid(), os.getgid(), os.getgroups()]", {})
    if result.ok:
        assert result.result == [65534, 65534, []]
    else:  # an interpreter that user cannot read (e.g. under /root): refused, not run as root
        assert result.failure is not None and result.failure.kind == "sandbox"


def test_thread_bomb_is_contained(run_code: RunCode) -> None:
    code = (
        "import threading, time\n"
        "while True:\n"
        "    threading.Thread(target=time.sleep, args=(60,), daemon=True).start()"
    )
    result = run_code(code, limits=Limits(wall_seconds=20))
    assert "can't start new thread" in failed_with(result, "exception")


@pytest.mark.parametrize("start", list(WORKER_SANDBOX))
def test_code_dies_with_the_worker(start: str) -> None:
    # GIVEN a worker process running code that would sleep for an hour
    marker = f"sleeper-{uuid.uuid4().hex}"
    worker = textwrap.dedent(f"""
        from executor.sandbox import Limits
        from executor.sandbox.local import LocalSandbox
        from executor.sandbox.warm import Template
        limits = Limits(wall_seconds=3600)
        {WORKER_SANDBOX[start]}.run("import time\\n# {marker}\\ntime.sleep(3600)", {{}})
    """)
    proc = subprocess.Popen([sys.executable, "-c", worker])
    started: dict[int, Path] = {}
    try:
        assert wait_for(lambda: bool(started.update(_sandboxes(marker)) or started), 120)
        # WHEN the worker is killed outright
        proc.kill()
        proc.wait()
        # THEN its sandboxed child goes with it
        assert wait_for(lambda: not _sandboxes(marker)), "the code outlived its worker"
    finally:
        proc.kill()
        for pid in _sandboxes(marker):
            os.kill(pid, signal.SIGKILL)
        # Nobody is left to delete the scratch directory.
        for folder in started.values():
            shutil.rmtree(folder, ignore_errors=True)


def _sandboxes(marker: str) -> dict[int, Path]:
    """Running sandboxed children whose main.py holds marker, with their scratch folders."""
    found = {}
    for entry in os.listdir("/proc"):
        try:
            cwd = Path(os.readlink(f"/proc/{entry}/cwd"))
            if marker in (cwd / "main.py").read_text():
                found[int(entry)] = cwd
        except (OSError, ValueError):
            continue
    return found


def test_a_broken_supervisor_still_stops_the_code(
    monkeypatch: pytest.MonkeyPatch, run_code: RunCode
) -> None:
    started: list[int] = []

    def broken(child: Child, *args: object) -> None:
        started.append(child.pid)
        raise RuntimeError("the supervisor broke")

    monkeypatch.setattr(local, "_supervise", broken)
    with pytest.raises(RuntimeError, match="supervisor broke"):
        run_code("import time\ntime.sleep(3600)")
    (pid,) = started
    assert not Path(f"/proc/{pid}").exists()  # killed and reaped
