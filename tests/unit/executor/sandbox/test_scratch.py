"""Scratch folders: private to their run, written and read without following anything out
of them, and removed afterwards whatever the run did to them."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from executor.sandbox import Limits, confine
from executor.sandbox.local import LocalSandbox
from executor.sandbox.scratch import Refused, Scratch, open_beneath
from executor.sandbox.warm import Template
from tests.support.sandbox import Outside


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_a_scratch_folder_is_unique_private_and_ours(tmp_path: Path) -> None:
    # WHEN two scratch folders are made
    with Scratch.create(tmp_path) as one, Scratch.create(tmp_path) as two:
        # THEN they differ, and each is 0700 and owned by this process's user
        assert one.path != two.path
        for folder in (one, two):
            assert mode(folder.path) == 0o700
            assert os.lstat(folder.path).st_uid == os.geteuid()


def test_what_the_worker_writes_is_private(tmp_path: Path) -> None:
    with Scratch.create(tmp_path) as scratch:
        # WHEN the worker writes inputs into it
        scratch.make_dir("inputs")
        scratch.write_file("inputs/q1.parquet", b"PAR1")
        # THEN folders are 0700 and files 0600, whatever the umask
        assert mode(scratch.path / "inputs") == 0o700
        assert mode(scratch.path / "inputs" / "q1.parquet") == 0o600
        assert (scratch.path / "inputs" / "q1.parquet").read_bytes() == b"PAR1"


def test_writes_never_follow_a_symlink(tmp_path: Path, outside: Outside) -> None:
    with Scratch.create(tmp_path) as scratch:
        # GIVEN a symlink where a folder or a file would go
        (scratch.path / "inputs").symlink_to(outside.path)
        (scratch.path / "main.py").symlink_to(outside.path / "secret.txt")
        # WHEN the worker writes through them / THEN it refuses
        with pytest.raises(Refused, match="a symlink, not followed"):
            scratch.write_file("inputs/q1.parquet", b"x")
        with pytest.raises(FileExistsError):
            scratch.write_file("main.py", b"x")
        assert not (outside.path / "q1.parquet").exists()
        assert (outside.path / "secret.txt").read_text() == outside.secret


def test_reads_never_follow_a_symlink(tmp_path: Path, outside: Outside) -> None:
    with Scratch.create(tmp_path) as scratch:
        # GIVEN the state folder replaced by a symlink to a folder holding an envelope
        (scratch.path / ".databot").symlink_to(outside.path)
        # WHEN the worker reads the envelope / THEN there is none to read
        assert scratch.read_file(".databot/envelope.json", 1 << 20) is None
        with pytest.raises(Refused):
            open_beneath(scratch.fd, "../outside")


@pytest.mark.timeout(60)
def test_removal_copes_with_whatever_the_code_left(tmp_path: Path, outside: Outside) -> None:
    with Scratch.create(tmp_path) as scratch:
        root = scratch.path
        # GIVEN symlinks out, a pipe, a socket-like mess, folders locked and nested deep
        (root / "out").mkdir()
        (root / "out" / "link").symlink_to(outside.path)
        (root / "out" / "file-link").symlink_to(outside.path / "secret.txt")
        os.mkfifo(root / "out" / "pipe")
        (root / "locked" / "inner").mkdir(parents=True)
        (root / "locked" / "inner" / "f").write_text("x")
        os.chmod(root / "locked" / "inner", 0)
        os.chmod(root / "locked", 0)
        _nest(root, 1200)
    # WHEN it is removed (leaving the with block)
    # THEN nothing of it is left, and the outside folder is whole
    assert not root.exists()
    assert (outside.path / "secret.txt").read_text() == outside.secret
    assert sorted(p.name for p in outside.path.iterdir()) == [
        "envelope.json",
        "figures",
        "secret.png",
        "secret.txt",
    ]


def _nest(root: Path, depth: int) -> None:
    """Folders `depth` levels deep, made by descriptor (the path would be too long)."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(depth):
        os.mkdir("d", dir_fd=fd)
        child = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = child
    os.close(fd)


def test_removal_after_the_folder_was_swapped_touches_only_the_original(
    tmp_path: Path, outside: Outside
) -> None:
    scratch = Scratch.create(tmp_path)
    (scratch.path / "mine.txt").write_text("x")
    # GIVEN the folder moved away and a symlink to another folder left in its place
    moved = tmp_path / "moved"
    scratch.path.rename(moved)
    scratch.path.symlink_to(outside.path)
    # WHEN it is removed
    scratch.remove()
    # THEN the original is emptied, the other folder and the symlink are left alone
    assert list(moved.iterdir()) == []
    assert (outside.path / "secret.txt").read_text() == outside.secret
    assert scratch.path.is_symlink()


# --- whole runs: the folder is gone afterwards, whatever happened ---


RUNS: dict[str, tuple[str, Limits]] = {
    "ok": ("(OUT / 'a.txt').write_text('a')", Limits()),
    "exception": ("1 / 0", Limits()),
    "timeout": ("import time\ntime.sleep(3600)", Limits(wall_seconds=1)),
    "exited": ("import os\nos._exit(3)", Limits()),
    "not confined": ("print('ran')", Limits(open_files=2**40)),
    "locked and linked": (
        "import os\nos.makedirs('out/x/y')\nos.symlink('/etc', 'out/etc')\n"
        "os.mkfifo('out/pipe')\nos.chmod('out/x/y', 0)\nos.chmod('out/x', 0)\nos.chmod('out', 0)",
        Limits(),
    ),
}


@pytest.mark.parametrize("case", list(RUNS))
def test_a_run_leaves_no_scratch_folder_behind(
    case: str, tmp_path: Path, template: Template | None
) -> None:
    code, limits = RUNS[case]
    runs = tmp_path / "runs"
    runs.mkdir()
    # WHEN a run ends this way
    LocalSandbox(limits, scratch_root=runs, template=template).run(code, {})
    # THEN its scratch folder is gone
    assert list(runs.iterdir()) == []


def test_the_code_sees_a_private_folder_and_private_inputs(template: Template | None) -> None:
    # GIVEN an input
    frame = pd.DataFrame({"a": [1]})
    data = frame.to_parquet(index=False)
    # WHEN the code looks at the modes of its folder, its inputs and its out/
    code = (
        "import os, stat\n"
        "m = lambda p: oct(stat.S_IMODE(os.stat(p).st_mode))\n"
        "result = [m('.'), m('inputs'), m('inputs/q1.parquet'), m('out')]"
    )
    result = LocalSandbox(template=template).run(code, {"q1": data})
    # THEN all are readable by their owner only
    assert result.ok, result.failure
    assert result.result == ["0o700", "0o700", "0o600", "0o700"]


@pytest.mark.timeout(120)
@pytest.mark.skipif(confine.landlock_abi() < 1, reason="Landlock is not available here")
def test_one_run_cannot_read_another_runs_inputs(tmp_path: Path, template: Template | None) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    secret = "input-" + os.urandom(8).hex()
    data = pd.DataFrame({"secret": [secret]}).to_parquet(index=False)
    # GIVEN a run holding a secret input, waiting until the test lets it finish
    waiting = (
        "import os, time\n"
        "deadline = time.monotonic() + 50\n"
        "while not os.path.exists('go') and time.monotonic() < deadline:\n"
        "    time.sleep(0.02)\n"
    )
    first = threading.Thread(
        target=LocalSandbox(Limits(wall_seconds=60), scratch_root=runs, template=template).run,
        args=(waiting, {"q1": data}),
    )
    first.start()
    try:
        (folder,) = _wait_for_scratch(runs)
        # WHEN a second run goes looking for it, by listing and by its exact path
        snoop = (
            "import glob\nseen = []\n"
            f"for path in [*glob.glob({str(runs)!r} + '/*/inputs/*'), "
            f"{str(folder / 'inputs' / 'q1.parquet')!r}]:\n"
            "    try:\n        seen.append(open(path, 'rb').read().hex())\n"
            "    except OSError as e:\n        seen.append(type(e).__name__)\n"
            "result = seen"
        )
        result = LocalSandbox(scratch_root=tmp_path, template=template).run(snoop, {})
    finally:
        (folder / "go").touch()
        first.join(timeout=60)
    # THEN it cannot read it
    assert result.ok, result.failure
    assert result.result == ["PermissionError"]
    assert secret.encode().hex() not in repr(result.result)


def _wait_for_scratch(runs: Path, seconds: float = 30.0) -> list[Path]:
    """The running run's scratch folder, once its input is in place."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = [p for p in runs.iterdir() if (p / "inputs" / "q1.parquet").exists()]
        if found:
            return found
        threading.Event().wait(0.05)
    return []
