"""What a sandboxed process starts with: its environment, built from nothing, the paths it
may read, and the state folder its libraries need. Shared by the cold start (a fresh
interpreter per run) and the warm template (executor.sandbox.warm), so both hand the code
exactly the same world."""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
from pathlib import Path

from executor.sandbox import bootstrap
from executor.sandbox.scratch import Scratch

# Read-only places the child needs beside the interpreter and its packages.
_SYSTEM_READABLE = ("/usr", "/lib", "/lib64", "/etc", "/proc", "/sys", "/dev")
# Packages the child imports; their install roots become its PYTHONPATH.
_CHILD_PACKAGES = (
    "executor",
    "pyseccomp",
    "pandas",
    "numpy",
    "pyarrow",
    "sklearn",
    "matplotlib",
    "joblib",
    "scipy",
)
MPL_CONFIG = f"{bootstrap.STATE_DIR}/matplotlib"


@functools.cache
def _package_dirs() -> tuple[Path, ...]:
    """Where each package the child imports lives: its folder, or its module file."""
    found: list[Path] = []
    for name in _CHILD_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec and spec.origin:
            origin = Path(spec.origin)
            found.append(origin.parent if origin.name == "__init__.py" else origin)
    return tuple(found)


def _package_roots() -> str:
    """PYTHONPATH for the child: the folders the packages are imported from."""
    roots = dict.fromkeys(str(path.parent) for path in _package_dirs())
    return os.pathsep.join(roots)


def readable_paths() -> list[str]:
    """What the child may read: the interpreter, the packages and system files, and nothing
    else, such as the repository or the worker user's home."""
    paths = [sys.base_prefix, sys.prefix, *map(str, _package_dirs()), *_SYSTEM_READABLE]
    return list(dict.fromkeys(paths))


def child_environment(scratch: Path) -> dict[str, str]:
    """Everything the child's environment holds; nothing is inherited from os.environ."""
    threads_1 = (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "NUMEXPR_NUM_THREADS",
        "LOKY_MAX_CPU_COUNT",
    )
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(scratch),
        "TMPDIR": str(scratch / "tmp"),
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(scratch / MPL_CONFIG),
        "PYTHONPATH": _package_roots(),
        "PYTHONDONTWRITEBYTECODE": "1",
        # No process pools (they could not start anyway): no warning about it either.
        "JOBLIB_MULTIPROCESSING": "0",
        **dict.fromkeys(threads_1, "1"),
    }


@functools.cache
def _font_lists() -> tuple[Path, ...]:
    """This user's matplotlib font list, if it has one: a copy in the child's config folder
    spares it the second or so of rebuilding it on every run that draws."""
    import matplotlib

    return tuple(Path(matplotlib.get_cachedir()).glob("fontlist-v*.json"))


def prepare_state(scratch: Scratch) -> None:
    """The folders every sandboxed process expects in its scratch folder: tmp/ and the
    state folder, with matplotlib's config folder and font list inside."""
    for folder in (bootstrap.STATE_DIR, "tmp", MPL_CONFIG):
        scratch.make_dir(folder)
    for font_list in _font_lists():
        scratch.write_file(f"{MPL_CONFIG}/{font_list.name}", font_list.read_bytes())
