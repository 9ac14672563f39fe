"""`databot sql "SQL"` or `databot sql FILE.sql`: run SQL through the guarded path the agent
uses. A saved `query_N.sql` from an answer runs as saved.

Exit codes: 0 done; 1 the database refused or failed (its message on stderr); 2 the SQL
guard refused the statement, or its plan is over a cost limit (the one-line reason on
stderr, nothing executed), or the command line is wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from bot.table_text import format_table
from executor.row_limits import COMMAND_ROWS

EXPORT_SUFFIXES = (".csv", ".parquet")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "sql",
        type=_sql_text,
        help="one SELECT statement (WITH … SELECT and UNION allowed), or a .sql file holding one",
    )
    parser.add_argument(
        "--max-rows",
        type=_positive_int,
        default=COMMAND_ROWS,
        metavar="N",
        help=f"rows to show (default {COMMAND_ROWS})",
    )
    parser.add_argument(
        "--export",
        type=_export_path,
        metavar="FILE",
        help="stream the whole result to FILE (.csv or .parquet) instead of showing rows",
    )
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        type=_param,
        metavar="NAME=VALUE",
        help="a value for a :NAME placeholder (JSON numbers, true/false and null are typed)",
    )


def run(args: argparse.Namespace) -> int:
    from executor.commands.ask import logs_on_stderr

    # Stdout holds the rows; a refusal or an error is one line on stderr, and neither log
    # lines nor the audit trail's are printed.
    with logs_on_stderr(verbose=False):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from bot.config import Env
    from executor.config import EngineConfig
    from executor.errors import UnsafeSQL, WarehouseError

    params = dict(args.param) or None
    try:
        config = EngineConfig.from_env(Env())
    except ValueError as e:
        return _fail(1, f"cannot open the warehouse: {e}")
    if config.warehouse.is_duckdb:
        from executor.warehouse.isolated import prestart

        # DuckDB loads in its child while the warehouse's schema doc and the SQL guard do.
        prestart()
    from executor.warehouse.factory import open_warehouse

    try:
        opened = open_warehouse(config.warehouse, warm=False)
    except (WarehouseError, ValueError) as e:
        return _fail(1, f"cannot open the warehouse: {e}")
    # Imported while the warehouse starts.
    from executor.governance.audited import audited_command
    from executor.warehouse.guarded import export_guarded, run_guarded

    warehouse = audited_command(config, opened, "sql")
    try:
        if args.export:
            started = time.perf_counter()
            exported = export_guarded(warehouse, args.sql, args.export, params=params)
            seconds = time.perf_counter() - started
            print(
                f"exported {_rows(exported.rows)} to {exported.location} in {seconds:.2f} s"
                f" ({exported.rows / max(seconds, 1e-9):,.0f} rows/s)"
            )
        else:
            result = run_guarded(warehouse, args.sql, max_rows=args.max_rows, params=params)
            print(format_table(result.columns, result.rows))
            shown = f"showing {len(result.rows):,} of " if result.truncated else ""
            print(f"\n{shown}{_rows(result.total_rows)} in {result.elapsed_s:.2f} s")
    except UnsafeSQL as e:
        return _fail(2, f"refused: {e}")
    except WarehouseError as e:
        return _fail(1, f"database error: {e}")
    finally:
        warehouse.close()
    return 0


def _rows(count: int) -> str:
    return f"{count:,} row{'' if count == 1 else 's'}"


def _sql_text(text: str) -> str:
    """The statement itself, or the contents of the .sql file it names."""
    if not text.strip().lower().endswith(".sql") or "\n" in text:
        return text
    path = Path(text.strip())
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise argparse.ArgumentTypeError(f"cannot read SQL file {text!r}: {e}") from e


def _fail(code: int, message: str) -> int:
    print(f"databot sql: {message}", file=sys.stderr)
    return code


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of rows, at least 1: {text!r}")
    return value


def _export_path(text: str) -> Path:
    path = Path(text)
    if path.suffix.lower() not in EXPORT_SUFFIXES:
        raise argparse.ArgumentTypeError(
            f"the file must end in {' or '.join(EXPORT_SUFFIXES)}: {text!r}"
        )
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"folder {str(path.parent)!r} does not exist")
    return path


def _param(text: str) -> tuple[str, Any]:
    name, sep, raw = text.partition("=")
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    # Only scalars are typed; anything else (a JSON list, an object) is kept as text.
    return name, value if isinstance(value, int | float | bool | None) else raw
