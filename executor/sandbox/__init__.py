"""Sandboxed Python: `run(code, inputs, limits) -> SandboxResult` on the configured backend.

Backends: `local` (a confined child process, forked from a warm template unless
SANDBOX_WARM=false; executor.sandbox.local) and `lambda` (a
separate Lambda function running the same bootstrap; executor.sandbox.aws_lambda).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from executor.sandbox.limits import Limits
from executor.sandbox.result import SandboxFailure, SandboxFile, SandboxResult

if TYPE_CHECKING:
    from executor.config import SandboxConfig

__all__ = [
    "Limits",
    "Sandbox",
    "SandboxFailure",
    "SandboxFile",
    "SandboxResult",
    "open_sandbox",
    "run",
]


class Sandbox(Protocol):
    limits: Limits

    def run(
        self, code: str, inputs: Mapping[str, bytes], limits: Limits | None = None
    ) -> SandboxResult:
        """Run `code` with `inputs` (name → Parquet bytes, loadable as load(name)) under
        `limits`, by default the sandbox's own."""
        ...


def open_sandbox(config: SandboxConfig, *, lambda_client: Any = None) -> Sandbox:
    """The backend SANDBOX_BACKEND names: "local" (default) or "lambda"."""
    if config.backend == "lambda":
        from executor.sandbox.aws_lambda import LambdaSandbox

        if not config.function_name:
            raise ValueError("SANDBOX_BACKEND=lambda needs SANDBOX_FUNCTION_NAME")
        return LambdaSandbox(
            config.function_name,
            config.limits,
            client=lambda_client,
            region=config.region,
        )
    if config.backend == "local":
        from executor.sandbox.local import LocalSandbox
        from executor.sandbox.warm import Template

        template = Template(run_as=config.uid) if config.warm else None
        return LocalSandbox(config.limits, run_as=config.uid, template=template)
    raise ValueError(f"unknown SANDBOX_BACKEND {config.backend!r}: local or lambda")


def run(
    code: str, inputs: Mapping[str, bytes] | None = None, limits: Limits | None = None
) -> SandboxResult:
    """Run `code` in the local backend with default limits unless given."""
    from executor.sandbox.local import LocalSandbox

    return LocalSandbox(limits).run(code, inputs or {})
