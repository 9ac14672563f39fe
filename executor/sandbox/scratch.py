"""A run's private scratch folder, reached only through a directory descriptor held from
its creation to its removal.

Everything inside the folder may have been written, moved or replaced by untrusted code,
and so may the folder's own path. So no path is ever resolved through it: each name is
opened relative to a descriptor of its parent, one component at a time, with O_NOFOLLOW,
and what was opened is judged by fstat on the descriptor, not by an earlier lookup.

Guarantees: the folder is unique and 0700 (files written into it 0600, folders 0700); no
symlink is followed and nothing outside it is opened, written or removed; a read never
blocks, returns only a regular file with a single link, and never exceeds its cap; the
folder is removed afterwards even when the code made it deep or unreadable.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path
from types import TracebackType

from bot.observability import service_logger

logger = service_logger()

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer.
# O_NOCTTY: a terminal device never becomes this process's controlling terminal.
FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_PRIVATE_DIR, _PRIVATE_FILE = 0o700, 0o600


class Refused(Exception):
    """An entry that is not read, and why, as a phrase for the notes."""


def describe(mode: int) -> str:
    """Why an entry of this type is not read."""
    if stat.S_ISLNK(mode):
        return "a symlink, not followed"
    if stat.S_ISFIFO(mode):
        return "a named pipe, not read"
    if stat.S_ISSOCK(mode):
        return "a socket, not read"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not read"
    if stat.S_ISDIR(mode):
        return "a folder, not a file"
    return "not a regular file, not read"


def identity(info: os.stat_result) -> tuple[int, int]:
    return info.st_dev, info.st_ino


def open_dir(parent: int, name: str, expected: os.stat_result | None = None) -> int:
    """A descriptor of the folder `name` in `parent`, which must be a real folder (not a
    symlink to one) and, when `expected` is given, the very one that lstat saw. Raises
    Refused, or FileNotFoundError when there is no such entry."""
    try:
        fd = os.open(name, DIR_FLAGS, dir_fd=parent)
    except FileNotFoundError:
        raise
    except OSError as e:
        if e.errno not in (errno.ENOTDIR, errno.ELOOP):
            raise Refused("could not be opened") from e
        try:
            now = os.stat(name, dir_fd=parent, follow_symlinks=False)
        except OSError:
            raise Refused("changed while it was read") from e
        raise Refused(describe(now.st_mode)) from e
    if expected is not None and identity(os.fstat(fd)) != identity(expected):
        os.close(fd)
        raise Refused("changed while it was read")
    return fd


def open_beneath(root: int, relative: str) -> int:
    """A descriptor of the folder at `relative` ("a/b") under root, every component
    checked as open_dir checks it. Raises Refused, or FileNotFoundError when absent."""
    fd = os.dup(root)
    try:
        for part in relative.split("/"):
            if part in ("", ".", ".."):
                raise Refused(f"{relative!r} is not a plain relative path")
            child = open_dir(fd, part)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular(parent: int, name: str, cap: int, expected: os.stat_result | None = None) -> bytes:
    """The bytes of the regular, singly-linked file `name` in `parent`, at most `cap` of
    them, or Refused. With `expected` (an earlier lstat), the file read must be that one."""
    try:
        fd = os.open(name, FILE_FLAGS, dir_fd=parent)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise Refused("a symlink, not followed") from e
        raise Refused("could not be read") from e
    try:
        return _read_capped(fd, cap, expected)
    except OSError as e:
        raise Refused("could not be read") from e
    finally:
        os.close(fd)


def _read_capped(fd: int, cap: int, expected: os.stat_result | None) -> bytes:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise Refused(describe(info.st_mode))
    if info.st_nlink != 1:  # the other name may be anywhere on the file system
        raise Refused("a hard link, not read")
    if expected is not None and identity(info) != identity(expected):
        raise Refused("changed while it was read")
    chunks, size = [], 0
    while size <= cap:  # read from the descriptor: a file that grows stays capped
        chunk = os.read(fd, min(cap + 1 - size, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > cap:
        raise Refused(f"grew past the {cap}-byte limit while it was read")
    return b"".join(chunks)


class Scratch:
    """One run's scratch folder. Create it with Scratch.create; use it as a context manager
    so it is removed whatever happens."""

    def __init__(self, path: Path, fd: int, owner: int | None) -> None:
        self.path = path
        self.fd = fd
        self._owner = owner

    @classmethod
    def create(cls, parent: Path | None = None, *, owner: int | None = None) -> Scratch:
        """A new, unique, 0700 folder under parent (default: the system's temporary
        folder). With owner (only when this process is root), everything created in it is
        handed to that uid and gid, so a child running as that user can use it."""
        path = Path(tempfile.mkdtemp(prefix="databot-sandbox-", dir=parent))
        fd = os.open(path, DIR_FLAGS)
        info = os.fstat(fd)
        if info.st_uid != os.geteuid() or stat.S_IMODE(info.st_mode) != _PRIVATE_DIR:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.rmdir(path)
            raise RuntimeError(f"the scratch folder {path} is not this process's private folder")
        scratch = cls(path, fd, owner if os.geteuid() == 0 else None)
        scratch._hand_over(fd)
        return scratch

    def __enter__(self) -> Scratch:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.remove()

    def make_dir(self, relative: str) -> None:
        """A new 0700 folder at `relative`, whose parent must exist."""
        parent, name = self._parent_of(relative)
        try:
            os.mkdir(name, _PRIVATE_DIR, dir_fd=parent)
            fd = open_dir(parent, name)
            try:
                self._hand_over(fd)
            finally:
                os.close(fd)
        finally:
            os.close(parent)

    def write_file(self, relative: str, data: bytes) -> None:
        """A new 0600 file at `relative` holding data; an existing entry is an error."""
        parent, name = self._parent_of(relative)
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            fd = os.open(name, flags, _PRIVATE_FILE, dir_fd=parent)
        finally:
            os.close(parent)
        with os.fdopen(fd, "wb") as f:
            self._hand_over(fd)
            f.write(data)

    def read_file(self, relative: str, cap: int) -> bytes | None:
        """The file at `relative` as read_regular reads it; None when it is absent or
        refused."""
        try:
            parent, name = self._parent_of(relative)
        except (OSError, Refused):
            return None
        try:
            return read_regular(parent, name, cap)
        except Refused:
            return None
        finally:
            os.close(parent)

    def remove(self) -> None:
        """Empty the folder and remove it; what cannot be removed is logged, not raised."""
        try:
            emptied = _empty(self.fd)
            with contextlib.suppress(OSError):
                # Only while the path still names this folder: the code may have moved it.
                if emptied and identity(os.lstat(self.path)) == identity(os.fstat(self.fd)):
                    os.rmdir(self.path)
        finally:
            os.close(self.fd)
        if os.path.lexists(self.path):
            logger.warning("sandbox scratch folder %s could not be removed entirely", self.path)

    def _parent_of(self, relative: str) -> tuple[int, str]:
        folder, _, name = relative.rpartition("/")
        if name in ("", ".", ".."):
            raise Refused(f"{relative!r} is not a plain relative path")
        return (open_beneath(self.fd, folder) if folder else os.dup(self.fd)), name

    def _hand_over(self, fd: int) -> None:
        if self._owner is not None:
            os.fchown(fd, self._owner, self._owner)


def _empty(root: int) -> bool:
    """Remove everything inside the folder `root`, never following a symlink. Depth first
    with one descriptor held at a time (going back up through "..", checked against the
    folder it came from), so no depth of nesting exhausts descriptors or the stack, and a
    folder the code made unreadable is made readable again first. False when something
    could not be removed."""
    fd = os.dup(root)
    above: list[tuple[str, tuple[int, int], list[str]]] = []
    try:
        pending = _remove_files(fd)
        while True:
            if pending:
                name = pending.pop()
                child = _open_for_removal(fd, name)
                above.append((name, identity(os.fstat(fd)), pending))
                os.close(fd)
                fd = child
                pending = _remove_files(fd)
                continue
            if not above:
                return True
            name, parent_id, pending = above.pop()
            parent = os.open("..", DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = parent
            if identity(os.fstat(fd)) != parent_id:
                return False  # the tree was moved while it was removed: stop here
            os.rmdir(name, dir_fd=fd)
    except (OSError, Refused) as e:
        logger.warning("sandbox scratch folder not emptied: %s", e)
        return False
    finally:
        os.close(fd)


def _remove_files(fd: int) -> list[str]:
    """Unlink every entry of the folder that is not a folder; the folders' names."""
    with contextlib.suppress(OSError):
        os.fchmod(fd, _PRIVATE_DIR)
    folders = []
    for name in os.listdir(fd):
        try:
            os.unlink(name, dir_fd=fd)  # unlink never follows a symlink
        except IsADirectoryError:
            folders.append(name)
        except FileNotFoundError:
            continue
    return folders


def _open_for_removal(parent: int, name: str) -> int:
    """The subfolder, made 0700 first when the code took its owner's rights away. An
    O_PATH descriptor needs no rights on the folder; it cannot be fchmod-ed, but its /proc
    link can be chmod-ed, and the folder opened through it without a second lookup."""
    flags = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    handle = os.open(name, flags, dir_fd=parent)
    try:
        if stat.S_IMODE(os.fstat(handle).st_mode) & _PRIVATE_DIR != _PRIVATE_DIR:
            os.chmod(f"/proc/self/fd/{handle}", _PRIVATE_DIR)
        return os.open(".", DIR_FLAGS, dir_fd=handle)
    finally:
        os.close(handle)
