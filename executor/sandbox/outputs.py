"""Reading what the sandboxed code left behind, from the parent's side, without trusting it.

The child is dead when this runs, but everything in the scratch directory was written by
untrusted code: symlinks are never followed, only regular files with a single link are
read, and every read is capped.
"""

from __future__ import annotations

import mimetypes
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from executor.sandbox.result import SandboxFile

FIGURE_SUFFIX = ".png"


@dataclass
class Collected:
    figures: list[SandboxFile] = field(default_factory=list)
    files: list[SandboxFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_capped(path: Path, cap: int) -> bytes | None:
    """The file's bytes if it is a regular, singly-linked file of at most `cap` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1 or info.st_size > cap:
            return None
        data = f.read(cap + 1)
    return data if len(data) <= cap else None


def _walk(root: Path, label: str, notes: list[str]) -> list[tuple[str, Path, int]]:
    """(name, path, size) of the regular files under root, depth first, sorted by name."""
    found: list[tuple[str, Path, int]] = []
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return found
    for entry in entries:
        name = f"{label}/{entry.name}" if label else entry.name
        if entry.is_symlink():
            notes.append(f"out/{name}: a symlink, not followed")
        elif entry.is_dir(follow_symlinks=False):
            found.extend(_walk(Path(entry.path), name, notes))
        elif entry.is_file(follow_symlinks=False):
            info = entry.stat(follow_symlinks=False)
            if info.st_nlink != 1:
                notes.append(f"out/{name}: a hard link, not read")
            else:
                found.append((name, Path(entry.path), info.st_size))
        else:
            notes.append(f"out/{name}: not a regular file, not read")
    return found


def collect(figures_dir: Path, out_dir: Path, max_bytes: int, max_files: int) -> Collected:
    """Figures (saved figures and .png files in out/) and the other out/ files, within
    one budget of bytes and files; whatever does not fit is named in the notes."""
    collected = Collected()
    candidates = [
        (f"figures/{name}", path, size) for name, path, size in _walk(figures_dir, "", [])
    ]
    candidates += _walk(out_dir, "", collected.notes)
    budget = max_bytes
    for name, path, size in candidates:
        if len(collected.figures) + len(collected.files) >= max_files:
            collected.notes.append(f"{name}: left out, over the {max_files}-file limit")
            continue
        data = read_capped(path, budget) if size <= budget else None
        if data is None:
            collected.notes.append(
                f"{name}: left out, {size} bytes with {budget} left of the {max_bytes}-byte limit"
                if size > budget
                else f"{name}: could not be read"
            )
            continue
        budget -= len(data)
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        target = collected.figures if name.endswith(FIGURE_SUFFIX) else collected.files
        target.append(SandboxFile(name=name, data=data, content_type=content_type))
    return collected


def disk_usage(root: Path, max_entries: int) -> int:
    """Bytes allocated under root (sparse files count what they use); a tree with more
    than max_entries entries counts as unbounded."""
    total, entries, stack = 0, 0, [root]
    while stack:
        try:
            iterator = os.scandir(stack.pop())
        except OSError:
            continue
        with iterator:
            for entry in iterator:
                entries += 1
                if entries > max_entries:
                    return 1 << 62
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                total += info.st_blocks * 512
                if stat.S_ISDIR(info.st_mode):
                    stack.append(Path(entry.path))
    return total
