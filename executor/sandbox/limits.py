"""The sandbox's resource limits and their defaults (overridden by SANDBOX_* variables,
read in executor/config.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one run may use. Every value is overridable by SANDBOX_<NAME upper-cased>."""

    # Wall-clock seconds before the whole process group is killed.
    wall_seconds: float = 60.0
    # CPU seconds (RLIMIT_CPU): SIGXCPU at the limit, SIGKILL one second later.
    cpu_seconds: int = 60
    # Address space (RLIMIT_AS). pandas + pyarrow + scikit-learn + matplotlib need ~1 GB of
    # virtual memory just to import; 3 GB leaves room for real work on the sample data.
    memory_bytes: int = 3 * 1024 * MB
    # Largest single file the code may write (RLIMIT_FSIZE).
    file_size_bytes: int = 64 * MB
    # Everything in the scratch directory together; the run is killed past it.
    scratch_bytes: int = 256 * MB
    # Open file descriptors (RLIMIT_NOFILE).
    open_files: int = 256
    # Processes and threads of the sandbox user (RLIMIT_NPROC; see docs/sandbox.md).
    processes: int = 64
    # stdout and stderr are each cut at this many bytes while they are read.
    stdout_bytes: int = 64 * 1024
    stderr_bytes: int = 64 * 1024
    # Files collected from out/ and figures: total bytes and count.
    out_bytes: int = 20 * MB
    out_files: int = 20
    # The JSON of the `result` value.
    result_bytes: int = 256 * 1024
    # The Parquet inputs together.
    input_bytes: int = 100 * MB

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Limits:
        """Limits from a JSON object; unknown keys are refused, missing ones keep defaults."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ValueError(f"unknown sandbox limits: {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for name, value in data.items():
            kind = float if known[name].type == "float" else int
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ValueError(f"sandbox limit {name} must be a positive number, got {value!r}")
            values[name] = kind(value)
        return cls(**values)
