"""Confinement the sandboxed child applies to itself before any user code runs.

Order matters: OS limits, then a switch to an unprivileged user when started as root,
then Landlock (when the kernel has it), then the seccomp filter, which must succeed or
the run is refused. Only the standard library and pyseccomp are imported here.
"""

from __future__ import annotations

import ctypes
import errno
import os
import resource
import signal
from collections.abc import Mapping
from typing import Any


class ConfinementError(RuntimeError):
    """The child could not be confined; the code must not run."""


def apply_limits(limits: Mapping[str, Any]) -> None:
    cpu = int(limits["cpu_seconds"])
    # The soft CPU limit sends SIGXCPU; the hard one, a second later, SIGKILL.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    for name, key in (
        (resource.RLIMIT_AS, "memory_bytes"),
        (resource.RLIMIT_FSIZE, "file_size_bytes"),
        (resource.RLIMIT_NOFILE, "open_files"),
        (resource.RLIMIT_NPROC, "processes"),
    ):
        value = int(limits[key])
        resource.setrlimit(name, (value, value))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # Python ignores SIGXFSZ so that a write past the limit raises OSError(EFBIG); make
    # SIGXCPU end the process without a core either way.
    signal.signal(signal.SIGXCPU, signal.SIG_DFL)


_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4


def make_undumpable() -> None:
    """Without CAP_SYS_PTRACE, no other process, even of the same uid, may then read this
    one's /proc/<pid>/environ or memory, write its memory, or trace it. Forked children
    inherit it."""
    if _libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        raise ConfinementError(f"prctl(PR_SET_DUMPABLE, 0) failed: errno {ctypes.get_errno()}")


def die_with_parent(parent_pid: int) -> None:
    """SIGKILL this process when the worker that started it dies, so a killed worker
    leaves no code running behind it. Set after any uid switch, which clears it."""
    if _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise ConfinementError("could not tie the sandbox's life to the worker's")
    if os.getppid() != parent_pid:  # the worker died before the line above
        os._exit(70)


def drop_privileges(uid: int | None) -> None:
    """From root to `uid` (its own group too): no capabilities, RLIMIT_NPROC binding,
    other users' files closed. None, or not root: stay as is."""
    if uid is None or os.geteuid() != 0:
        return
    gid = uid
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.geteuid() == 0 or os.getegid() != gid:
        raise ConfinementError("could not leave the root user")


_SYS_CAPSET = 126
_CAPABILITY_VERSION_3 = 0x20080522
_PR_CAPBSET_DROP = 24
_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 47, 4


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def drop_capabilities() -> None:
    """Give up every capability, for good. Root without CAP_SYS_PTRACE cannot read a
    non-dumpable parent's /proc/<pid>/environ; without CAP_KILL, CAP_NET_RAW, CAP_SYS_ADMIN
    and the rest it is an ordinary user apart from owning root's files."""
    with open("/proc/sys/kernel/cap_last_cap", encoding="ascii") as f:
        last = int(f.read())
    for cap in range(last + 1):
        if _libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() != errno.EINVAL:
            raise ConfinementError(f"could not drop capability {cap} from the bounding set")
    _libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = _CapHeader(_CAPABILITY_VERSION_3, 0)
    empty = (_CapData * 2)()
    try:
        _syscall(_SYS_CAPSET, ctypes.byref(header), ctypes.byref(empty))
    except OSError as e:
        raise ConfinementError(f"could not drop capabilities: {e}") from e


# --- Landlock: unprivileged filesystem, TCP and signal restrictions (Linux 5.13+). ---

_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38
_FS_EXECUTE, _FS_WRITE_FILE, _FS_READ_FILE, _FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_FS_READ = _FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR
_FS_WRITE_TREE = (
    _FS_WRITE_FILE
    | (1 << 4)  # remove dir
    | (1 << 5)  # remove file
    | (1 << 6)  # make char
    | (1 << 7)  # make dir
    | (1 << 8)  # make reg
    | (1 << 9)  # make sock
    | (1 << 10)  # make fifo
    | (1 << 11)  # make block
    | (1 << 12)  # make sym
)
_FS_REFER = 1 << 13  # ABI 2
_FS_TRUNCATE = 1 << 14  # ABI 3
# The rights Landlock accepts on a rule for a file rather than a directory.
_FS_FILE_RIGHTS = _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | _FS_TRUNCATE
_NET_TCP = (1 << 0) | (1 << 1)  # ABI 4: bind, connect
_SCOPE_ALL = (1 << 0) | (1 << 1)  # ABI 6: abstract unix sockets, signals


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


_libc = ctypes.CDLL(None, use_errno=True)


def _syscall(number: int, *args: Any) -> int:
    value = int(_libc.syscall(number, *args))
    if value < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return value


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 when it has none."""
    try:
        return _syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), _CREATE_RULESET_VERSION)
    except OSError:
        return 0


def restrict_filesystem(scratch: str, readable: list[str]) -> int:
    """Reads only under `readable` (the interpreter, the packages, system files), writes
    only under `scratch` (and /dev/null), no TCP, and no signals or ptrace (which includes
    /proc/<pid>/environ) towards processes outside the sandbox. Returns the ABI used, 0
    when the kernel has no Landlock and nothing was restricted."""
    abi = landlock_abi()
    if abi < 1:
        return 0
    write = _FS_WRITE_TREE | (_FS_REFER if abi >= 2 else 0) | (_FS_TRUNCATE if abi >= 3 else 0)
    file_write = _FS_WRITE_FILE | (_FS_TRUNCATE if abi >= 3 else 0)
    attr = _RulesetAttr(
        write | _FS_READ, _NET_TCP if abi >= 4 else 0, _SCOPE_ALL if abi >= 6 else 0
    )
    size = ctypes.sizeof(ctypes.c_uint64) * (3 if abi >= 6 else 2 if abi >= 4 else 1)
    ruleset = _syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0)
    rules = [(path, _FS_READ) for path in readable if os.path.exists(path)]
    rules += [(scratch, write | _FS_READ), ("/dev/null", file_write | _FS_READ_FILE)]
    try:
        for path, rights in rules:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            try:
                if not os.path.isdir(path):
                    rights &= _FS_FILE_RIGHTS
                rule = _PathBeneathAttr(rights, fd)
                _syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0)
            finally:
                os.close(fd)
        if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        _syscall(_SYS_RESTRICT_SELF, ruleset, 0)
    finally:
        os.close(ruleset)
    return abi


def check_containment(euid: int, landlock: int) -> None:
    """Refuse root without Landlock: even without capabilities, root owns the system's
    files and could rewrite them. Switch to another uid (SANDBOX_UID) or run as non-root."""
    if euid == 0 and landlock < 1:
        raise ConfinementError(
            "running as root on a kernel without Landlock: set SANDBOX_UID to an "
            "unprivileged uid, or run the worker as a non-root user"
        )


# --- seccomp: the mandatory layer. ---

_CLONE_THREAD = 0x00010000
_AF_UNIX = 1
# Refused outright: starting programs or processes, looking into or signalling other
# processes, and kernel interfaces user code has no business with. io_uring is refused
# because its requests (sockets included) bypass seccomp.
_REFUSED = (
    "fork",
    "vfork",
    "execve",
    "execveat",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "pidfd_open",
    "pidfd_getfd",
    "pidfd_send_signal",
    "tkill",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "keyctl",
    "add_key",
    "request_key",
    "mount",
    "umount2",
    "unshare",
    "setns",
    "pivot_root",
    "chroot",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "open_by_handle_at",
)


def block_syscalls() -> None:
    """Install the seccomp filter (no_new_privs is set with it). Raises ConfinementError
    when seccomp is unavailable: the sandbox fails closed rather than run unfiltered."""
    try:
        import pyseccomp as seccomp
    except (ImportError, RuntimeError, OSError) as e:
        raise ConfinementError(f"seccomp is unavailable (libseccomp missing?): {e}") from e
    pid = os.getpid()
    eperm = seccomp.ERRNO(errno.EPERM)
    try:
        rules = seccomp.SyscallFilter(seccomp.ALLOW)
        for name in _REFUSED:
            rules.add_rule(eperm, name)
        # Threads only: a clone without CLONE_THREAD is a new process.
        rules.add_rule(eperm, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, _CLONE_THREAD, 0))
        # glibc falls back from clone3 (whose flags seccomp cannot see) to clone on ENOSYS.
        rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
        for name in ("socket", "socketpair"):
            rules.add_rule(eperm, name, seccomp.Arg(0, seccomp.NE, _AF_UNIX))
        for name in ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo"):
            rules.add_rule(eperm, name, seccomp.Arg(0, seccomp.NE, pid))
        rules.load()
    except OSError as e:
        raise ConfinementError(f"could not install the seccomp filter: {e}") from e
