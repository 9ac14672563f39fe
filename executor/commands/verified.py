"""`databot verified`: keep the verified queries honest, and show reviewers what to verify.

    databot verified check [--tolerance 0.05] [--json]   run every entry, report drift
    databot verified pending [--days N]                  answers others liked, unverified
    databot verified export [--output FILE]              stored entries as library YAML
    databot verified retire ID [--reviewer NAME]         stop answering from an entry

`check` runs the library (input/verified_queries.yaml) and the active stored entries
(VERIFIED_TABLE, or the local file in the results folder) through the guarded warehouse
path (executor/verified/drift.py) and writes its counts as EMF metrics, which the stack's
daily schedule and alarm watch. Exit codes: 0 nothing broken (drifted entries are
reported, not failed); 1 an entry is broken; 2 the check could not run.

`pending` reads FEEDBACK_TABLE and JOBS_TABLE (exit 2 when unset); `retire` goes through
the review desk, as the Retire button does, and exits 2 for an id that is neither stored
nor in the library, or one retired already.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

DEFAULT_TOLERANCE = 0.05


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = actions.add_parser(
        "check", help="run every verified query and report broken, drifted and ok ones")
    check.add_argument("--tolerance", type=_fraction, default=DEFAULT_TOLERANCE, metavar="F",
                       help="how far row counts and values may move before an entry has "
                            f"drifted, as a fraction (default {DEFAULT_TOLERANCE})")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.set_defaults(action_run=_check)
    pending = actions.add_parser(
        "pending", help="agent answers someone else liked and nobody disliked, to verify")
    pending.add_argument("--days", type=int, default=None, metavar="N",
                         help="only answers liked in the last N days (default: all)")
    pending.set_defaults(action_run=_pending)
    export = actions.add_parser(
        "export", help="stored entries as YAML to merge into input/verified_queries.yaml")
    export.add_argument("--output", type=Path, metavar="FILE",
                        help="write to FILE instead of standard output")
    export.set_defaults(action_run=_export)
    retire = actions.add_parser("retire", help="stop answering from an entry")
    retire.add_argument("entry_id", metavar="ID", help="the entry's id")
    retire.add_argument("--reviewer", default="databot verified retire", metavar="NAME",
                        help="who retires it (kept with the entry)")
    retire.set_defaults(action_run=_retire)


def run(args: argparse.Namespace) -> int:
    return int(args.action_run(args))


def _check(args: argparse.Namespace) -> int:
    from executor.commands.ask import logs_on_stderr

    # Stdout is for the report and its metrics; the audit trail's log lines are not.
    with logs_on_stderr(verbose=False):
        return _run_check(args)


def _run_check(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from bot.config import ConfigError, Env
    from executor.config import EngineConfig
    from executor.errors import WarehouseError
    from executor.governance.audited import audited_command
    from executor.verified.drift import BROKEN, check_served, summary
    from executor.verified.library import LibraryError, load_library
    from executor.verified.store import open_verified_store
    from executor.warehouse.factory import open_warehouse
    from executor.worker.config import WorkerConfig
    from executor.worker.metrics import WorkerMetrics

    env = Env()
    try:
        metrics = WorkerMetrics(WorkerConfig.from_env(env).metrics_namespace)
        config = EngineConfig.from_env(env)
    except ConfigError as e:
        return _fail("check", 2, str(e))
    try:
        static = load_library()
        records = open_verified_store(config.verified).entries()
        warehouse = audited_command(config, open_warehouse(config.warehouse), "verified-check")
    except (LibraryError, WarehouseError, ValueError, BotoCoreError, ClientError) as e:
        metrics.verified_check_failed()
        return _fail("check", 2, f"cannot check: {e}")
    try:
        checks = check_served(warehouse, static, records, date.today(),
                              tolerance=args.tolerance)
    finally:
        warehouse.close()
    counts = summary(checks)
    metrics.verified_checked(ok=counts["ok"], drifted=counts["drifted"], broken=counts[BROKEN])
    if args.json:
        print(json.dumps({"summary": counts, "entries": [c.to_dict() for c in checks]},
                         indent=2))
    else:
        width = max((len(check.entry_id) for check in checks), default=0)
        for check in sorted(checks, key=lambda c: (_SEVERITY[c.status], c.entry_id)):
            reason = f"  {check.reason}" if check.reason else ""
            print(f"{check.status:<8} {check.entry_id:<{width}}  {check.origin:<7}{reason}")
        print(f"{len(checks)} verified queries: {counts[BROKEN]} broken, "
              f"{counts['drifted']} drifted, {counts['ok']} ok")
    return 1 if counts[BROKEN] else 0


_SEVERITY = {"broken": 0, "drifted": 1, "ok": 2}


def _pending(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime, timedelta

    from bot.config import ConfigError, Env
    from bot.feedback import FeedbackConfig
    from bot.job_store import JobsConfig, JobStore
    from executor.verified.pending import pending_answers

    env = Env()
    jobs = JobsConfig.from_env(env)
    try:
        votes = FeedbackConfig.from_env(env).store()
        jobs.require(queue=False)
    except ConfigError as e:
        return _fail("pending", 2, str(e))
    since = ""
    if args.days is not None:
        since = (datetime.now(UTC) - timedelta(days=args.days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    answers = pending_answers(votes.votes(), JobStore(str(jobs.table)).get, since=since)
    print(f"{len(answers)} answers to review"
          + (f" (liked in the last {args.days} days)" if args.days is not None else ""))
    for answer in answers:
        print(f"\n{answer.endorsed_at}  {answer.job_id}  asked by {answer.asker}, "
              f"👍 from {', '.join(answer.endorsed_by)}")
        print(f"  {answer.question}")
        for statement in answer.sql:
            print("    " + "\n    ".join(statement.strip().splitlines()))
    return 0


def _export(args: argparse.Namespace) -> int:
    from bot.config import ConfigError, Env
    from executor.config import EngineConfig
    from executor.verified.export import library_yaml
    from executor.verified.store import open_verified_store

    try:
        store = open_verified_store(EngineConfig.from_env(Env()).verified)
    except ConfigError as e:
        return _fail("export", 2, str(e))
    entries = [entry.to_library() for entry in store.entries() if entry.active]
    text = library_yaml(entries)
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {len(entries)} entries to {args.output}", file=sys.stderr)
    return 0


def _retire(args: argparse.Namespace) -> int:
    from bot.config import ConfigError, Env
    from bot.review import Review
    from executor.config import EngineConfig
    from executor.verified.review import Refused, open_review_desk

    try:
        desk = open_review_desk(EngineConfig.from_env(Env()))
    except ConfigError as e:
        return _fail("retire", 2, str(e))
    try:
        desk.retire(Review(source_job_id="", reviewer=args.reviewer, entry_id=args.entry_id),
                    job_id="cli")
    except Refused as e:
        return _fail("retire", 2, str(e))
    print(f"retired {args.entry_id}: questions it answered go to the model again")
    return 0


def _fail(action: str, code: int, message: str) -> int:
    print(f"databot verified {action}: {message}", file=sys.stderr)
    return code


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be a fraction from 0 to 1, e.g. 0.05: {text!r}")
    return value
