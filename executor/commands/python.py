"""`databot python FILE [--input NAME=query.sql ...]`: run a Python file in the sandbox the
agent uses, with query results as inputs (load("NAME") inside the code).

Prints what the code printed, its `result`, and where its figures and out/ files were
saved. Exit codes: 0 done; 1 the code raised or ended early; 2 the command line or an input
is wrong (a missing file, SQL the guard refuses); 3 the code hit a limit (time, CPU,
disk, a kill); 4 the sandbox itself could not run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from executor.sandbox import SandboxResult

if TYPE_CHECKING:
    from executor.config import EngineConfig

EXIT_FAILED, EXIT_USAGE, EXIT_LIMIT, EXIT_SANDBOX = 1, 2, 3, 4
LIMIT_KINDS = ("timeout", "cpu_limit", "disk_limit", "killed")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the Python file to run")
    parser.add_argument(
        "--input",
        action="append",
        default=[],
        type=_input,
        metavar="NAME=query.sql",
        help="run the SQL file through the guarded path; the code loads it as load('NAME')",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="where figures and out/ files are saved (default: RESULTS_DIR/python)",
    )
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON")


def run(args: argparse.Namespace) -> int:
    from executor.commands.ask import logs_on_stderr

    # Stdout is for the run's output; the audit trail's log lines are not.
    with logs_on_stderr(verbose=False):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from bot.config import Env
    from executor.config import EngineConfig
    from executor.errors import UnsafeSQL, WarehouseError
    from executor.sandbox import open_sandbox

    config = EngineConfig.from_env(Env())
    try:
        code = args.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        return _fail(EXIT_USAGE, f"cannot read {args.file}: {e}")
    try:
        inputs = _query_inputs(config, args.input)
    except UnsafeSQL as e:
        return _fail(EXIT_USAGE, f"input refused: {e}")
    except (WarehouseError, ValueError) as e:
        return _fail(EXIT_USAGE, f"input failed: {e}")
    try:
        # One run: a warm template would only add its start-up to it.
        sandbox = open_sandbox(replace(config.sandbox, warm=False))
    except ValueError as e:
        return _fail(EXIT_USAGE, str(e))
    result = sandbox.run(code, inputs)
    saved = _save(result, args.out or config.artifacts.results_dir / "python")
    if args.json:
        print(json.dumps(_summary(result, saved), indent=2))
    else:
        _print(result, saved)
    return _exit_code(result)


def _query_inputs(config: EngineConfig, specs: list[tuple[str, Path]]) -> dict[str, bytes]:
    """Each NAME=query.sql run whole through the guarded path, as Parquet bytes."""
    if not specs:
        return {}
    from executor.governance.audited import audited_command
    from executor.warehouse.factory import open_warehouse
    from executor.warehouse.guarded import export_guarded

    warehouse = audited_command(config, open_warehouse(config.warehouse, warm=False), "python")
    inputs: dict[str, bytes] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="databot-input-") as folder:
            for name, sql_file in specs:
                path = Path(folder) / f"{name}.parquet"
                export_guarded(warehouse, sql_file.read_text(encoding="utf-8"), path)
                inputs[name] = path.read_bytes()
    finally:
        warehouse.close()
    return inputs


def _save(result: SandboxResult, out_dir: Path) -> dict[str, Path]:
    """Write every figure and out/ file under `out_dir`; name → where it really is. A name
    that would leave the folder is kept to its last part."""
    saved: dict[str, Path] = {}
    for produced in [*result.figures, *result.files]:
        parts = [p for p in Path(produced.name).parts if p not in ("", ".", "..", "/")]
        target = out_dir.joinpath(*parts) if parts else out_dir / "unnamed"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(produced.data)
        saved[produced.name] = target.resolve()
    return saved


def _print(result: SandboxResult, saved: dict[str, Path]) -> None:
    if result.stdout:
        print(result.stdout, end="" if result.stdout.endswith("\n") else "\n")
    if result.stdout_truncated:
        print("[output cut: only the first part was kept]")
    if result.stderr:
        print(result.stderr, end="", file=sys.stderr)
    if result.result is not None:
        print(f"result: {json.dumps(result.result)}")
    for path in saved.values():
        print(f"saved {path}")
    for note in result.notes:
        print(f"note: {note}")
    if result.failure is not None:
        print(f"databot python: {result.failure.describe()}", file=sys.stderr)


def _summary(result: SandboxResult, saved: dict[str, Path]) -> dict[str, object]:
    """The result as JSON, with file contents replaced by their sizes and saved paths."""
    data = result.to_dict()
    for key in ("figures", "files"):
        data[key] = [
            {"name": f.name, "bytes": len(f.data), "path": str(saved[f.name])}
            for f in getattr(result, key)
        ]
    return data


def _exit_code(result: SandboxResult) -> int:
    if result.failure is None:
        return 0
    if result.failure.kind in LIMIT_KINDS:
        return EXIT_LIMIT
    if result.failure.kind == "sandbox":
        return EXIT_SANDBOX
    return EXIT_FAILED


def _fail(code: int, message: str) -> int:
    print(f"databot python: {message}", file=sys.stderr)
    return code


def _input(text: str) -> tuple[str, Path]:
    name, sep, file = text.partition("=")
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"expected NAME=query.sql, got {text!r}")
    path = Path(file)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"no SQL file {file!r}")
    return name, path
