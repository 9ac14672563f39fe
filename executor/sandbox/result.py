"""What a sandbox run returns, and its JSON form (the lambda backend's wire format)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

# Why a run failed. "exception": the code raised; the others are the sandbox stopping it.
FAILURE_KINDS = (
    "exception",  # the code raised (MemoryError included); type, message, traceback set
    "timeout",  # wall-clock limit: the process group was killed
    "cpu_limit",  # RLIMIT_CPU
    "disk_limit",  # the scratch directory grew past Limits.scratch_bytes
    "killed",  # ended by a signal (a crash, or a limit enforced by the kernel)
    "exited",  # the code ended the process before the sandbox could collect its result
    "sandbox",  # the sandbox could not start or confine the code; nothing user-written ran
)


@dataclass(frozen=True)
class SandboxFile:
    """A file the code produced: a figure (PNG) or something it wrote in out/."""

    name: str
    data: bytes
    content_type: str
    # A figure's title (its suptitle or first axes title), "" when it has none.
    title: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "data": base64.b64encode(self.data).decode("ascii"),
            "content_type": self.content_type,
            "title": self.title,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SandboxFile:
        return cls(
            name=str(data["name"]),
            data=base64.b64decode(data["data"]),
            content_type=str(data["content_type"]),
            title=str(data.get("title", "")),
        )


@dataclass(frozen=True)
class SandboxFailure:
    kind: str
    message: str
    # For kind "exception": the exception's class name and the last traceback lines.
    type: str | None = None
    traceback: str | None = None

    def describe(self) -> str:
        """One paragraph for a person or a model: what went wrong and where."""
        head = f"{self.type}: {self.message}" if self.type else self.message
        return f"{self.traceback}\n{head}" if self.traceback else head


@dataclass
class SandboxResult:
    stdout: str = ""
    stderr: str = ""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    # The JSON-able value the code assigned to `result`, if any.
    result: Any = None
    figures: list[SandboxFile] = field(default_factory=list)
    files: list[SandboxFile] = field(default_factory=list)
    # Things the sandbox left out, for the reader: "out/link: a symlink, not followed".
    notes: list[str] = field(default_factory=list)
    failure: SandboxFailure | None = None
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.failure is None

    def to_dict(self) -> dict[str, Any]:
        failure = self.failure
        return {
            "stdout": self.stdout,
            "stderr": self.stderr,
            "stdout_truncated": self.stdout_truncated,
            "stderr_truncated": self.stderr_truncated,
            "result": self.result,
            "figures": [f.to_dict() for f in self.figures],
            "files": [f.to_dict() for f in self.files],
            "notes": list(self.notes),
            "failure": None if failure is None else failure.__dict__.copy(),
            "elapsed_s": self.elapsed_s,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SandboxResult:
        failure = data.get("failure")
        return cls(
            stdout=str(data.get("stdout", "")),
            stderr=str(data.get("stderr", "")),
            stdout_truncated=bool(data.get("stdout_truncated", False)),
            stderr_truncated=bool(data.get("stderr_truncated", False)),
            result=data.get("result"),
            figures=[SandboxFile.from_dict(f) for f in data.get("figures", [])],
            files=[SandboxFile.from_dict(f) for f in data.get("files", [])],
            notes=[str(n) for n in data.get("notes", [])],
            failure=SandboxFailure(**failure) if failure else None,
            elapsed_s=float(data.get("elapsed_s", 0.0)),
        )
