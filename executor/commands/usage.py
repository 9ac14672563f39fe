"""`databot usage`: a month's model spend, tokens, answers and verified-hit rate, per person,
per channel or per day.

    databot usage [--by user|channel|day] [--month 2026-11] [--json]

Reads the spend ledger: USAGE_TABLE (a Scan, so run it with operator credentials: the
worker's role may only read and update single items), else the SQLite file in the
results folder. Exit codes: 0 printed; 2 a setting or the ledger could not be read.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from executor.governance.report import UsageReport
    from executor.governance.spend import Counts

BY = ("user", "channel", "day")
COLUMNS = ("spend USD", "input", "output", "cache read", "cache write", "answers",
           "verified", "verified %")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--by", choices=BY, default="user",
                        help="one row per person (default), channel or day")
    parser.add_argument("--month", type=_month, metavar="YYYY-MM",
                        help="the month to report (default: this month, UTC)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from bot.config import ConfigError, Env
    from executor.config import ArtifactsConfig, BudgetsConfig
    from executor.governance.budgets import open_ledger
    from executor.governance.report import usage_report

    env = Env()
    month = args.month or datetime.now(UTC).strftime("%Y-%m")
    try:
        region = env.aws_region()
        results_dir = ArtifactsConfig.from_env(env, region=region).results_dir
        config = BudgetsConfig.from_env(env, region=region)
        counters = open_ledger(config, results_dir).month(month)
    except (ConfigError, BotoCoreError, ClientError) as e:
        print(f"databot usage: {e}", file=sys.stderr)
        return 2
    report = usage_report(month, args.by, counters)
    if args.json:
        print(json.dumps(_as_json(report), indent=2))
    else:
        print(_as_table(report), end="")
    return 0


def _as_json(report: UsageReport) -> dict[str, Any]:
    def entry(counts: Counts) -> dict[str, Any]:
        # committed_usd is spend plus calls in flight: for limits, not for reports.
        fields = {name: value for name, value in asdict(counts).items()
                  if name != "committed_usd"}
        return fields | {"cost_usd": round(counts.cost_usd, 6),
                         "verified_rate": counts.verified_rate}

    return {"month": report.month, "by": report.by,
            "rows": [{report.by: key, **entry(counts)} for key, counts in report.rows],
            "total": entry(report.total)}


def _as_table(report: UsageReport) -> str:
    def cells(counts: Counts) -> list[str]:
        rate = counts.verified_rate
        return [f"{counts.cost_usd:.4f}", f"{counts.input_tokens:,}",
                f"{counts.output_tokens:,}", f"{counts.cache_read_tokens:,}",
                f"{counts.cache_write_tokens:,}", f"{counts.answers:,}",
                f"{counts.verified_answers:,}", "-" if rate is None else f"{rate:.0%}"]

    lines = [[report.by, *COLUMNS]]
    lines += [[key, *cells(counts)] for key, counts in report.rows]
    lines.append(["total", *cells(report.total)])
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    text = f"Model spend in {report.month}, by {report.by}\n"
    for line in lines:
        text += "  ".join([line[0].ljust(widths[0])] +
                          [cell.rjust(width) for cell, width in zip(line[1:], widths[1:],
                                                                   strict=True)]) + "\n"
    return text


def _month(text: str) -> str:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        raise argparse.ArgumentTypeError(f"expected a month like 2026-11, got {text!r}")
    return text
