"""Reading what the sandboxed code left behind, from the worker's side, without trusting it.

One walker serves both reads of the scratch folder: its size while the code runs, and the
figures and out/ files after it ends (in the worker, and inside the sandbox Lambda, which
runs the same local backend). It starts from the scratch folder's descriptor and opens
every folder by name relative to its parent with O_NOFOLLOW (executor.sandbox.scratch), so
a symlink anywhere, the roots included, a folder swapped for a symlink mid-walk, or a
mount can never take it outside the run's folder. Only regular files with a single link
and a printable name are read, each read capped; pipes, sockets and devices are never
opened; the entries listed, the depth, the files, the bytes and the notes are all capped.
"""

from __future__ import annotations

import mimetypes
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from executor.sandbox.result import SandboxFile
from executor.sandbox.scratch import Refused, describe, open_beneath, open_dir, read_regular

FIGURE_SUFFIX = ".png"
# Entries listed and folder levels entered in one walk: past either, the scratch folder
# counts as over its size limit and collection stops.
MAX_ENTRIES = 10_000
MAX_DEPTH = 32
# A collected file's path, in characters.
MAX_NAME_CHARS = 200
# Notes handed back, and characters in each.
MAX_NOTES = 20
NOTE_CHARS = 300


@dataclass(frozen=True)
class Entry:
    path: str  # from the walk's root, "/"-separated
    name: str  # its name in `parent`
    parent: int  # descriptor of its folder, open while the walk is at this entry
    info: os.stat_result  # its lstat


def _lstat(parent: int, name: str) -> os.stat_result:
    return os.stat(name, dir_fd=parent, follow_symlinks=False)


def _enter_all(entry: Entry) -> bool:
    return True


class Walk:
    """Every entry under the folder `root` (a descriptor), depth first and by name within
    a folder, up to max_entries entries and max_depth levels. Folders are entered only when
    `enter` says so, and only if they are still the folder lstat saw. Afterwards, `stopped`
    says which cap cut the walk short, and `refused` lists, with why, the folders not
    entered and the mount points skipped."""

    def __init__(
        self,
        root: int,
        *,
        max_entries: int = MAX_ENTRIES,
        max_depth: int = MAX_DEPTH,
        enter: Callable[[Entry], bool] = _enter_all,
    ) -> None:
        self.root = root
        self.max_entries = max_entries
        self.max_depth = max_depth
        self.enter = enter
        self.seen = 0
        self.stopped: str | None = None
        self.refused: list[tuple[str, str]] = []

    def __iter__(self) -> Iterator[Entry]:
        device = os.fstat(self.root).st_dev
        yield from self._walk(self.root, "", 1, device)

    def _walk(self, fd: int, prefix: str, depth: int, device: int) -> Iterator[Entry]:
        room = self.max_entries - self.seen
        try:
            with os.scandir(fd) as listing:
                # One past the room left is enough to know the cap is passed.
                names = sorted(entry.name for entry in islice(listing, room + 1))
        except OSError:
            self.refused.append((prefix.rstrip("/"), "could not be listed"))
            return
        for name in names:
            if self.seen >= self.max_entries:
                self.stopped = f"more than {self.max_entries} entries"
                return
            try:
                info = _lstat(fd, name)
            except FileNotFoundError:
                continue
            except OSError:
                self.refused.append((f"{prefix}{name}", "could not be examined"))
                continue
            self.seen += 1
            entry = Entry(f"{prefix}{name}", name, fd, info)
            if info.st_dev != device:  # a mount point: another file system's files
                self.refused.append((entry.path, "on another file system, not followed"))
                continue
            yield entry
            if not stat.S_ISDIR(info.st_mode) or not self.enter(entry):
                continue
            if depth >= self.max_depth:
                self.stopped = f"more than {self.max_depth} levels of folders"
                continue
            try:
                child = open_dir(fd, name, info)
            except FileNotFoundError:
                continue
            except Refused as e:
                self.refused.append((entry.path, str(e)))
                continue
            try:
                yield from self._walk(child, f"{entry.path}/", depth + 1, device)
            finally:
                os.close(child)


@dataclass
class Collected:
    figures: list[SandboxFile] = field(default_factory=list)
    files: list[SandboxFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def printable(path: str) -> bool:
    """Whether the path can be shown as it is: printable (no newlines, control or
    undecodable characters) and not over-long."""
    return len(path) <= MAX_NAME_CHARS and path.isprintable()


def collect(
    scratch: int, figures_dir: str, out_dir: str, max_bytes: int, max_files: int
) -> Collected:
    """Figures (the saved ones, under figures_dir, and .png files in out_dir) and the other
    out_dir files, both relative to the scratch folder's descriptor, within one budget of
    bytes and files; whatever is left out is named in the notes."""
    collector = _Collector(max_bytes, max_files)
    collector.gather(scratch, figures_dir, "figures", "figures/")
    collector.gather(scratch, out_dir, "out", "")
    return collector.collected


class _Collector:
    def __init__(self, max_bytes: int, max_files: int) -> None:
        self.collected = Collected()
        self.max_bytes = max_bytes
        self.max_files = max_files
        self.budget = max_bytes

    def gather(self, scratch: int, relative: str, label: str, prefix: str) -> None:
        """The files under `relative`, named prefix + their path, noted as label/path."""
        notes = self.collected.notes
        try:
            root = open_beneath(scratch, relative)
        except FileNotFoundError:
            return
        except Refused as e:
            notes.append(f"{label}: {e}")
            return
        try:
            walk = Walk(root, enter=lambda entry: printable(entry.path))
            for entry in walk:
                where = f"{label}/{entry.path}"
                if not printable(entry.path):
                    notes.append(
                        f"{label}/{entry.path[:60]!a}: an unprintable or long name, left out"
                    )
                elif stat.S_ISREG(entry.info.st_mode):
                    self._take(entry, prefix + entry.path, where)
                elif not stat.S_ISDIR(entry.info.st_mode):
                    notes.append(f"{where}: {describe(entry.info.st_mode)}")
            notes += [
                f"{label}/{path}".rstrip("/") + f": {reason}" for path, reason in walk.refused
            ]
            if walk.stopped:
                notes.append(f"{label}: {walk.stopped}, the rest left out")
        finally:
            os.close(root)

    def _take(self, entry: Entry, name: str, where: str) -> None:
        """Read one file if it fits in what is left of the budget."""
        collected = self.collected
        if len(collected.figures) + len(collected.files) >= self.max_files:
            collected.notes.append(f"{where}: left out, over the {self.max_files}-file limit")
            return
        size = entry.info.st_size
        if size > self.budget:
            collected.notes.append(
                f"{where}: left out, {size} bytes with {self.budget} left of the "
                f"{self.max_bytes}-byte limit"
            )
            return
        try:
            data = read_regular(entry.parent, entry.name, self.budget, entry.info)
        except Refused as e:
            collected.notes.append(f"{where}: {e}")
            return
        self.budget -= len(data)
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        target = collected.figures if name.endswith(FIGURE_SUFFIX) else collected.files
        target.append(SandboxFile(name=name, data=data, content_type=content_type))


def disk_usage(scratch: int) -> int | None:
    """Bytes allocated under the scratch folder's descriptor (sparse files count what they
    use); None when it cannot be measured: too many entries, too deep, or a folder that
    cannot be entered."""
    walk = Walk(scratch)
    total = sum(entry.info.st_blocks * 512 for entry in walk)
    return None if walk.stopped or walk.refused else total


def clip_notes(notes: list[str]) -> list[str]:
    """At most MAX_NOTES notes of at most NOTE_CHARS characters each, and a count of the
    rest: the code decides how many there are."""
    kept = [
        note if len(note) <= NOTE_CHARS else note[: NOTE_CHARS - 1] + "…"
        for note in notes[:MAX_NOTES]
    ]
    if len(notes) > MAX_NOTES:
        kept.append(f"{len(notes) - MAX_NOTES} more notes left out")
    return kept
