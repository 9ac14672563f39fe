"""The warm template: what it holds, how it serves runs, and how it fails. The escape and
limit tests run on the warm path too (the `template` and `run_code` fixtures)."""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import Env
from executor.config import SandboxConfig
from executor.sandbox import Limits, SandboxResult, open_sandbox
from executor.sandbox.environment import child_environment, readable_paths
from executor.sandbox.local import LocalSandbox
from executor.sandbox.warm import REPLY_S, Template
from tests.support.sandbox import wait_for

TOKEN = "xoxb-" + os.urandom(12).hex()
WHO = "import os, sys\nresult = {'parent': os.getppid(), 'pandas': 'pandas' in sys.modules}"


@pytest.fixture
def own(monkeypatch: pytest.MonkeyPatch) -> Iterator[Template]:
    """A template of this test's own, started while the worker holds a Slack token."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    template = Template()
    yield template
    template.close()


def ran(result: SandboxResult) -> dict[str, object]:
    assert result.ok, result.failure
    assert isinstance(result.result, dict)
    return result.result


def test_a_run_is_forked_from_the_template_with_the_libraries_imported(
    warm_template: Template,
) -> None:
    # WHEN code runs on a warm sandbox
    seen = ran(LocalSandbox(template=warm_template).run(WHO, {}))
    # THEN its parent is the template, and pandas was imported before the code ran
    assert seen == {"parent": warm_template.pid, "pandas": True}


def _readable_memory(pid: int) -> Iterator[bytes]:
    """The template's writable memory (heap, stack, anonymous), region by region."""
    maps_path, mem_path = f"/proc/{pid}/maps", f"/proc/{pid}/mem"
    with open(maps_path, encoding="ascii") as maps, open(mem_path, "rb") as mem:
        for line in maps:
            fields = line.split()
            start, end = (int(x, 16) for x in fields[0].split("-"))
            if not fields[1].startswith("rw") or end - start > 256 * 1024 * 1024:
                continue
            try:
                mem.seek(start)
                yield mem.read(end - start)
            except OSError:
                continue


def test_the_template_holds_no_secret(own: Template) -> None:
    # GIVEN a worker with a Slack token in its environment, and a warm run
    assert os.environ["SLACK_BOT_TOKEN"] == TOKEN
    code = "import os\nresult = [dict(os.environ), open('/proc/self/environ').read()]"
    seen = LocalSandbox(template=own).run(code, {})
    assert seen.ok, seen.failure
    assert own.pid is not None
    # THEN the token is nowhere: not in the template's environment or its memory, and
    # not in the child's environment, as Python or the kernel sees it
    environ = Path(f"/proc/{own.pid}/environ").read_bytes().rstrip(b"\0").split(b"\0")
    names = {entry.split(b"=", 1)[0].decode() for entry in environ}
    assert names == set(child_environment(Path("/")))
    assert not any(TOKEN.encode() in entry for entry in environ)
    assert not any(TOKEN.encode() in region for region in _readable_memory(own.pid))
    assert TOKEN not in json.dumps(seen.result)
    assert "SLACK" not in json.dumps(seen.result)


def test_the_template_inherits_none_of_the_workers_descriptors(
    own: Template, tmp_path: Path
) -> None:
    # GIVEN a worker holding an inheritable descriptor on a secret file
    secret = tmp_path / "secret.txt"
    secret.write_text(TOKEN)
    fd = os.open(secret, os.O_RDONLY)
    os.set_inheritable(fd, True)
    try:
        # WHEN the template starts and a child tries that descriptor
        code = (
            f"import os\ntry:\n    got = os.pread({fd}, 100, 0).decode()\n"
            "except OSError as e:\n    got = type(e).__name__\n"
            "links = []\nfor n in os.listdir('/proc/self/fd'):\n"
            "    try:\n        links.append(os.readlink(f'/proc/self/fd/{n}'))\n"
            "    except OSError:\n        pass\n"
            "result = [got, links]"
        )
        seen = LocalSandbox(template=own).run(code, {})
        folder = f"/proc/{own.pid}/fd"
        held = [os.readlink(f"{folder}/{n}") for n in os.listdir(folder)]
    finally:
        os.close(fd)
    # THEN neither has it: the child's read fails, the template holds only its own
    # descriptors (/dev/null, its sockets, its wake-up pipe and selector, and the library
    # files it opened), and the child none of the template's sockets
    assert seen.ok, seen.failure
    got, child_holds = ran_list(seen)
    assert got == "OSError"
    assert str(secret) not in held
    own_kinds = r"/dev/null|socket:\[\d+\]|pipe:\[\d+\]|anon_inode:\[eventpoll\]"
    libraries = tuple(readable_paths())
    assert all(re.fullmatch(own_kinds, link) or link.startswith(libraries) for link in held)
    assert isinstance(child_holds, list)
    assert not any(str(link).startswith("socket:") for link in child_holds), child_holds


def test_a_killed_template_is_replaced_and_its_run_goes_cold(own: Template) -> None:
    sandbox = LocalSandbox(template=own)
    first = ran(sandbox.run(WHO, {}))
    assert first["parent"] == own.pid
    # GIVEN the template killed between runs
    killed = int(str(first["parent"]))
    os.kill(killed, signal.SIGKILL)
    assert wait_for(lambda: not _alive(killed))
    # WHEN the next run comes
    found_dead = ran(sandbox.run(WHO, {}))
    # THEN it runs cold (a child of this process), and the run after it is warm again,
    # on a new template
    assert found_dead["parent"] == os.getpid()
    after = ran(sandbox.run(WHO, {}))
    assert after["parent"] == own.pid != killed
    assert after["pandas"] is True


def test_a_template_that_cannot_start_leaves_runs_cold() -> None:
    # GIVEN a template whose folder cannot be made
    broken = Template(scratch_root=Path("/nonexistent") / os.urandom(4).hex())
    # WHEN a run comes
    seen = ran(LocalSandbox(template=broken).run(WHO, {}))
    # THEN it runs cold, a child of this process
    assert seen["parent"] == os.getpid()


def test_a_template_killed_during_a_run_kills_the_run(own: Template) -> None:
    # GIVEN a warm run that sleeps
    sandbox = LocalSandbox(Limits(wall_seconds=120), template=own)
    sandbox.run("pass", {})
    results: list[SandboxResult] = []
    runner = threading.Thread(
        target=lambda: results.append(sandbox.run("import time\ntime.sleep(3600)", {}))
    )
    runner.start()
    warm = own.pid
    assert warm is not None
    assert wait_for(lambda: bool(_children(warm)))
    (child,) = _children(warm)
    # WHEN the template dies
    os.kill(warm, signal.SIGKILL)
    runner.join(timeout=60)
    # THEN the run ends as killed, and its process is gone
    (result,) = results
    assert result.failure is not None and result.failure.kind == "killed"
    assert wait_for(lambda: not _alive(child))


def test_a_child_cannot_leave_its_process_group_and_the_group_dies_with_it(
    warm_template: Template,
) -> None:
    # GIVEN code that tries to leave its session and group, to fork, and then sleeps
    code = (
        "import os, sys, time\n"
        "tried = []\n"
        "for attempt in (os.setsid, lambda: os.setpgid(0, 0), os.fork):\n"
        "    try:\n        attempt()\n        tried.append('done')\n"
        "    except OSError as e:\n        tried.append(type(e).__name__)\n"
        "print(os.getpid(), os.getpgid(0), os.getsid(0), *tried, flush=True)\n"
        "time.sleep(3600)"
    )
    # WHEN it hits its time limit
    result = LocalSandbox(Limits(wall_seconds=3), template=warm_template).run(code, {})
    # THEN it led its own session and group, could leave neither nor fork, and nothing of
    # its group is left
    assert result.failure is not None and result.failure.kind == "timeout"
    pid, pgid, sid, *tried = result.stdout.split()
    assert pid == pgid == sid
    assert tried == ["PermissionError", "PermissionError", "PermissionError"]
    assert _group(int(pgid)) == []


def test_concurrent_runs_each_get_their_own_child(warm_template: Template) -> None:
    sandbox = LocalSandbox(template=warm_template)
    sandbox.run("pass", {})  # started and ready
    code = (
        "import os, time\ntime.sleep(0.5)\n"
        "result = [os.getpid(), os.getppid(), open('mine').read()]"
    )
    results: dict[int, SandboxResult] = {}

    def one(n: int) -> None:
        results[n] = sandbox.run(f"open('mine', 'w').write('{n}')\n" + code, {})

    # WHEN four runs start at once
    threads = [threading.Thread(target=one, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    # THEN each ran in its own child of the template, in its own folder
    assert sorted(results) == [0, 1, 2, 3]
    seen = [ran_list(results[n]) for n in range(4)]
    assert [s[2] for s in seen] == ["0", "1", "2", "3"]
    assert len({s[0] for s in seen}) == 4
    assert {s[1] for s in seen} == {warm_template.pid}


def ran_list(result: SandboxResult) -> list[object]:
    assert result.ok, result.failure
    assert isinstance(result.result, list)
    return result.result


def test_a_child_that_cannot_enter_its_folder_runs_nothing(warm_template: Template) -> None:
    # GIVEN a request for a folder that is not there (the child cannot set itself up)
    config = {"limits": Limits().to_dict(), "uid": None, "readable": readable_paths()}
    missing = Path("/nonexistent") / os.urandom(4).hex()
    child = warm_template.fork(missing, child_environment(missing), config)
    # WHEN it is followed to its end
    assert child is not None
    assert wait_for(lambda: child.exited(0.05))
    returncode, _ = child.stop()
    # THEN it exited before any code could run
    assert returncode == 70


def test_every_run_gets_fresh_randomness(warm_template: Template) -> None:
    sandbox = LocalSandbox(template=warm_template)
    code = "import numpy, random\nresult = [float(numpy.random.rand()), random.random()]"
    first, second = ran_list(sandbox.run(code, {})), ran_list(sandbox.run(code, {}))
    assert first[0] != second[0] and first[1] != second[1]


def test_a_child_uses_its_own_temporary_folder(warm_template: Template) -> None:
    code = "import os, tempfile\nresult = tempfile.gettempdir() == os.path.abspath('tmp')"
    result = LocalSandbox(template=warm_template).run(code, {})
    assert result.ok and result.result is True, result.failure


def test_sandbox_warm_setting() -> None:
    assert SandboxConfig.from_env(Env({}), region=None).warm is True
    assert SandboxConfig.from_env(Env({"SANDBOX_WARM": "false"}), region=None).warm is False
    assert open_sandbox(SandboxConfig(warm=False)).template is None  # type: ignore[attr-defined]
    assert open_sandbox(SandboxConfig()).template is not None  # type: ignore[attr-defined]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _children(parent: int) -> list[int]:
    return [pid for pid, fields in _stats() if int(fields[1]) == parent and fields[0] != "Z"]


def _group(pgid: int) -> list[int]:
    return [pid for pid, fields in _stats() if int(fields[2]) == pgid]


def _stats() -> Iterator[tuple[int, list[str]]]:
    """(pid, [state, ppid, pgrp, ...]) of every process."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as f:
                    yield int(entry), f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue


def test_a_run_killed_as_soon_as_it_is_forked_dies_at_once(
    warm_template: Template, tmp_path: Path,
) -> None:
    # GIVEN children asked to die the moment they are forked, often before they have made
    # their own process group
    config = {"limits": Limits().to_dict(), "uid": None, "readable": readable_paths()}
    for n in range(20):
        folder = tmp_path / str(n)
        folder.mkdir()
        (folder / "main.py").write_text("import time\ntime.sleep(3600)\n")
        child = warm_template.fork(folder, child_environment(folder), config)
        assert child is not None
        # WHEN each is stopped at once THEN the template reports each one killed, rather
        # than the stop waiting out its reply timeout (a kill that found no group yet used
        # to leave the child running)
        started = time.monotonic()
        returncode, _ = child.stop()
        assert (returncode, time.monotonic() - started < REPLY_S) == (-signal.SIGKILL, True), n
        assert not _alive(child.pid)
