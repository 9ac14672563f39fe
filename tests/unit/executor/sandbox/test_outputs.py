"""The output walker on prepared scratch trees: whatever the code left behind, collection
reads nothing outside the run's folder, never blocks, never raises, and keeps its caps."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from executor.sandbox import outputs
from executor.sandbox.outputs import Collected, Walk, clip_notes, collect, disk_usage
from executor.sandbox.result import SandboxFile, SandboxResult
from executor.sandbox.scratch import Scratch
from tests.support.sandbox import Outside

FIGURES, OUT = ".databot/figures", "out"
MB = 1024 * 1024


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Scratch]:
    """A scratch folder as the worker prepares it, with a file the code legitimately wrote."""
    with Scratch.create(tmp_path) as folder:
        for name in (OUT, ".databot", FIGURES):
            folder.make_dir(name)
        (folder.path / OUT / "ok.txt").write_text("fine")
        yield folder


def gather(scratch: Scratch, max_bytes: int = MB, max_files: int = 20) -> Collected:
    return collect(scratch.fd, FIGURES, OUT, max_bytes, max_files)


def leaked(outside: Outside, found: Collected) -> list[str]:
    return outside.leaked_into(
        SandboxResult(figures=found.figures, files=found.files, notes=found.notes)
    )


def names(files: list[SandboxFile]) -> list[str]:
    return [f.name for f in files]


def _replace_with_link(target: Path, link: Path) -> None:
    if link.exists():
        link.rename(link.with_name(link.name + ".old"))
    link.symlink_to(target)


def _mknod_null(root: Path, outside: Outside) -> None:
    try:
        os.mknod(root / OUT / "null", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("creating device files needs CAP_MKNOD")


def _bind_socket(root: Path, outside: Outside) -> None:
    # A unix socket's path is limited to 108 bytes: bind by a name relative to out/.
    server = socket.socket(socket.AF_UNIX)
    cwd = os.getcwd()
    os.chdir(root / OUT)
    try:
        server.bind("sock")
    finally:
        os.chdir(cwd)
        server.close()


# What the code might leave behind → the note that names what was refused.
TRAPS: dict[str, tuple[Callable[[Path, Outside], None], str]] = {
    "out is a symlink to a folder outside": (
        lambda root, o: _replace_with_link(o.path, root / OUT),
        "out: a symlink, not followed",
    ),
    "out is a symlink to /tmp": (
        lambda root, o: _replace_with_link(Path("/tmp"), root / OUT),
        "out: a symlink, not followed",
    ),
    "a file in out is a symlink": (
        lambda root, o: (root / OUT / "x.txt").symlink_to(o.path / "secret.txt"),
        "out/x.txt: a symlink, not followed",
    ),
    "a folder two levels down is a symlink": (
        lambda root, o: (
            (root / OUT / "a").mkdir(),
            (root / OUT / "a" / "b").symlink_to(o.path),
        ),
        "out/a/b: a symlink, not followed",
    ),
    "the figures folder is a symlink": (
        lambda root, o: _replace_with_link(o.path / "figures", root / FIGURES),
        "figures: a symlink, not followed",
    ),
    "the state folder holding figures is a symlink": (
        lambda root, o: (
            (root / FIGURES).rmdir(),
            _replace_with_link(o.path, root / ".databot"),
        ),
        "figures: a symlink, not followed",
    ),
    "a hard link to a file outside": (
        lambda root, o: os.link(o.path / "secret.txt", root / OUT / "h.txt"),
        "out/h.txt: a hard link, not read",
    ),
    "a hard link inside out": (
        lambda root, o: os.link(root / OUT / "ok.txt", root / OUT / "ok2.txt"),
        "out/ok.txt: a hard link, not read",
    ),
    "a named pipe in out": (
        lambda root, o: os.mkfifo(root / OUT / "pipe"),
        "out/pipe: a named pipe, not read",
    ),
    "out itself is a named pipe": (
        lambda root, o: (
            (root / OUT / "ok.txt").unlink(),
            (root / OUT).rmdir(),
            os.mkfifo(root / OUT),
        ),
        "out: a named pipe, not read",
    ),
    "a unix socket in out": (_bind_socket, "out/sock: a socket, not read"),
    "a device file in out": (_mknod_null, "out/null: a device, not read"),
}


@pytest.mark.timeout(20)
@pytest.mark.parametrize("trap", list(TRAPS))
def test_nothing_outside_the_scratch_folder_is_read(
    trap: str, scratch: Scratch, outside: Outside
) -> None:
    build, expected_note = TRAPS[trap]
    # GIVEN a scratch folder the code booby-trapped
    build(scratch.path, outside)
    # WHEN the worker collects what the code left behind
    found = gather(scratch)
    # THEN nothing from outside comes back, and a note says what was refused
    assert leaked(outside, found) == []
    assert expected_note in found.notes
    assert all(f.data == b"fine" for f in found.files)


@pytest.mark.parametrize(
    "name",
    ["a\nb.txt", "tab\there.txt", "bell\x07.txt", "x" * 201],
    ids=["newline", "tab", "control", "too-long"],
)
def test_names_that_cannot_be_shown_are_left_out(scratch: Scratch, name: str) -> None:
    # GIVEN a file whose name holds a newline, a control character, or is too long
    (scratch.path / OUT / name).write_text("hidden")
    # WHEN collected
    found = gather(scratch)
    # THEN it is left out with a note that shows its name escaped, on one line
    assert names(found.files) == ["ok.txt"]
    (note,) = [n for n in found.notes if "unprintable" in n]
    assert note.isprintable()


def test_a_name_that_is_not_utf8_is_left_out(scratch: Scratch) -> None:
    # GIVEN a file and a folder whose names are not valid UTF-8
    os.close(os.open(os.fsencode(scratch.path / OUT) + b"/\xff.txt", os.O_CREAT | os.O_WRONLY))
    os.mkdir(os.fsencode(scratch.path / OUT) + b"/\xfe")
    (scratch.path / OUT / os.fsdecode(b"\xfe") / "inner.txt").write_text("inner")
    # WHEN collected
    found = gather(scratch)
    # THEN neither, nor anything inside the folder, is read
    assert names(found.files) == ["ok.txt"]
    assert len([n for n in found.notes if "unprintable" in n]) == 2


def test_files_nested_in_real_folders_are_read(scratch: Scratch) -> None:
    # GIVEN figures and nested out/ files
    (scratch.path / FIGURES / "figure-1.png").write_bytes(b"\x89PNG one")
    (scratch.path / OUT / "nested" / "deeper").mkdir(parents=True)
    (scratch.path / OUT / "nested" / "deeper" / "data.csv").write_text("a,b\n")
    (scratch.path / OUT / "chart.png").write_bytes(b"\x89PNG two")
    # WHEN collected
    found = gather(scratch)
    # THEN figures first, then the out/ files depth first by name, with their types
    assert names(found.figures) == ["figures/figure-1.png", "chart.png"]
    assert names(found.files) == ["nested/deeper/data.csv", "ok.txt"]
    assert found.files[0].content_type == "text/csv"
    assert found.notes == []


def test_byte_and_file_caps_hold(scratch: Scratch) -> None:
    # GIVEN a file over the byte budget and more files than the file cap
    (scratch.path / OUT / "big.bin").write_bytes(b"x" * (2 * MB))
    for i in range(5):
        (scratch.path / OUT / f"n{i}.txt").write_text(str(i))
    # WHEN collected with 1 MB and 4 files
    found = gather(scratch, max_bytes=MB, max_files=4)
    # THEN the big file and the files past the cap are named in the notes
    assert names(found.files) == ["n0.txt", "n1.txt", "n2.txt", "n3.txt"]
    assert any(n.startswith("out/big.bin: left out, 2097152 bytes") for n in found.notes)
    assert "out/ok.txt: left out, over the 4-file limit" in found.notes


def test_listing_stops_at_the_entry_cap(scratch: Scratch) -> None:
    # GIVEN more entries in out/ than one walk lists (folders: the quickest to make)
    for i in range(outputs.MAX_ENTRIES + 5):
        os.mkdir(scratch.path / OUT / f"a{i:05}")
    # WHEN collected
    found = gather(scratch)
    # THEN the listing stops at the cap (ok.txt sorts after it) and a note says so
    assert found.files == []
    assert found.notes == [f"out: more than {outputs.MAX_ENTRIES} entries, the rest left out"]


def test_walk_yields_each_entry_once_within_the_cap(scratch: Scratch) -> None:
    # GIVEN three folders of four files each
    for folder in "abc":
        (scratch.path / OUT / folder).mkdir()
        for i in range(4):
            (scratch.path / OUT / folder / f"{i}.txt").touch()
    out = os.open(scratch.path / OUT, os.O_RDONLY | os.O_DIRECTORY)
    try:
        # WHEN walked with room for ten entries
        walk = Walk(out, max_entries=10)
        seen = [entry.path for entry in walk]
    finally:
        os.close(out)
    # THEN exactly ten, in order, and the walk says it stopped
    assert seen == [
        "a",
        "a/0.txt",
        "a/1.txt",
        "a/2.txt",
        "a/3.txt",
        "b",
        *[f"b/{i}.txt" for i in range(4)],
    ]
    assert walk.stopped == "more than 10 entries"


def test_folders_deeper_than_the_cap_are_not_entered(scratch: Scratch) -> None:
    # GIVEN a file 40 folders down
    deep = scratch.path / OUT / Path(*["d"] * 40)
    deep.mkdir(parents=True)
    (deep / "bottom.txt").write_text("bottom")
    (scratch.path / OUT / "d" / "top.txt").write_text("top")
    # WHEN collected
    found = gather(scratch)
    # THEN what is within the cap is read, the rest is noted
    assert names(found.files) == ["d/top.txt", "ok.txt"]
    assert f"out: more than {outputs.MAX_DEPTH} levels of folders, the rest left out" in found.notes


# --- the tree changing between the listing and the read (the lstat hook) ---


def swap_after_lstat(
    monkeypatch: pytest.MonkeyPatch, victim: str, swap: Callable[[int, str], None]
) -> None:
    """Make the walker's lstat of `victim` return what it saw, then swap the entry."""
    real = outputs._lstat

    def lstat_then_swap(parent: int, name: str) -> os.stat_result:
        info = real(parent, name)
        if name == victim:
            swap(parent, name)
        return info

    monkeypatch.setattr(outputs, "_lstat", lstat_then_swap)


def _to_symlink(target: Path) -> Callable[[int, str], None]:
    def swap(parent: int, name: str) -> None:
        os.rename(name, f"{name}.old", src_dir_fd=parent, dst_dir_fd=parent)
        os.symlink(target, name, dir_fd=parent)

    return swap


def _to_hard_link(target: Path) -> Callable[[int, str], None]:
    def swap(parent: int, name: str) -> None:
        os.unlink(name, dir_fd=parent)
        os.link(target, name, dst_dir_fd=parent)

    return swap


def _to_fifo(parent: int, name: str) -> None:
    os.unlink(name, dir_fd=parent)
    os.mkfifo(name, dir_fd=parent)


def _to_other_file(parent: int, name: str) -> None:
    # Created before the old one goes, so it cannot reuse its inode number.
    os.close(os.open("new", os.O_CREAT | os.O_WRONLY, dir_fd=parent))
    os.rename("new", name, src_dir_fd=parent, dst_dir_fd=parent)


def _grow(parent: int, name: str) -> None:
    fd = os.open(name, os.O_WRONLY | os.O_APPEND, dir_fd=parent)
    os.write(fd, b"y" * (2 * MB))
    os.close(fd)


RACES: dict[str, tuple[str, Callable[[Outside], Callable[[int, str], None]], str]] = {
    "file becomes a symlink": (
        "ok.txt",
        lambda o: _to_symlink(o.path / "secret.txt"),
        "out/ok.txt: a symlink, not followed",
    ),
    "folder becomes a symlink": (
        "sub",
        lambda o: _to_symlink(o.path),
        "out/sub: a symlink, not followed",
    ),
    "file becomes a hard link to a file outside": (
        "ok.txt",
        lambda o: _to_hard_link(o.path / "secret.txt"),
        "out/ok.txt: a hard link, not read",
    ),
    "file becomes a named pipe": (
        "ok.txt",
        lambda o: _to_fifo,
        "out/ok.txt: a named pipe, not read",
    ),
    "file becomes another file": (
        "ok.txt",
        lambda o: _to_other_file,
        "out/ok.txt: changed while it was read",
    ),
    "file grows past the budget": (
        "ok.txt",
        lambda o: _grow,
        f"out/ok.txt: grew past the {MB}-byte limit while it was read",
    ),
}


@pytest.mark.timeout(20)
@pytest.mark.parametrize("race", list(RACES))
def test_an_entry_swapped_between_listing_and_reading_is_refused(
    race: str, scratch: Scratch, outside: Outside, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim, make_swap, expected_note = RACES[race]
    (scratch.path / OUT / "sub").mkdir()
    (scratch.path / OUT / "sub" / "inner.txt").write_text("fine")
    # GIVEN an entry that changes right after the walker looked at it
    swap_after_lstat(monkeypatch, victim, make_swap(outside))
    # WHEN collected
    found = gather(scratch)
    # THEN the changed entry is refused and nothing from outside comes back
    assert leaked(outside, found) == []
    assert expected_note in found.notes
    assert all(len(f.data) <= MB for f in found.files)


def test_out_swapped_after_it_was_opened_keeps_reading_the_original(
    scratch: Scratch, outside: Outside, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN out/ renamed and replaced by a symlink while the walker is inside it
    root = scratch.path

    def swap(parent: int, name: str) -> None:
        (root / OUT).rename(root / "out.old")
        (root / OUT).symlink_to(outside.path)

    swap_after_lstat(monkeypatch, "ok.txt", swap)
    # WHEN collected
    found = gather(scratch)
    # THEN the walk goes on in the folder it opened, never in the new target
    assert leaked(outside, found) == []
    assert names(found.files) == ["ok.txt"]


def test_an_entry_that_cannot_be_examined_is_a_note_not_a_crash(
    scratch: Scratch, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an entry whose lstat fails (as it does in a folder without search permission)
    (scratch.path / OUT / "hidden.txt").write_text("x")
    real = outputs._lstat

    def refusing(parent: int, name: str) -> os.stat_result:
        if name == "hidden.txt":
            raise PermissionError(13, "Permission denied")
        return real(parent, name)

    monkeypatch.setattr(outputs, "_lstat", refusing)
    # WHEN collected / THEN the rest is read and the entry is noted
    found = gather(scratch)
    assert names(found.files) == ["ok.txt"]
    assert "out/hidden.txt: could not be examined" in found.notes
    # AND the size check, which cannot see all of the folder, says its size is unknown
    assert disk_usage(scratch.fd) is None


# --- the scratch size check uses the same walker ---


def test_disk_usage_counts_only_the_scratch_folder(scratch: Scratch, outside: Outside) -> None:
    # GIVEN a large file outside and a symlink to its folder in out/
    (outside.path / "large.bin").write_bytes(b"z" * (4 * MB))
    (scratch.path / OUT / "link").symlink_to(outside.path)
    (scratch.path / OUT / "own.bin").write_bytes(b"z" * MB)
    # WHEN measured
    used = disk_usage(scratch.fd)
    # THEN only what is inside counts
    assert used is not None and MB <= used < 2 * MB


def test_disk_usage_is_unknown_past_the_depth_cap(scratch: Scratch) -> None:
    # GIVEN folders nested deeper than a walk goes (where data could hide)
    (scratch.path / OUT / Path(*["d"] * (outputs.MAX_DEPTH + 2))).mkdir(parents=True)
    # WHEN measured / THEN the size is unknown, which the supervisor treats as too big
    assert disk_usage(scratch.fd) is None


def test_clip_notes_caps_count_and_length() -> None:
    notes = clip_notes(["x" * 1000] + [f"n{i}" for i in range(30)])
    assert len(notes) == outputs.MAX_NOTES + 1
    assert len(notes[0]) == outputs.NOTE_CHARS
    assert notes[-1] == "11 more notes left out"
