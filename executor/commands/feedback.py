"""`databot feedback`: the latest votes on answers, and how each verified entry and each
model is rated.

    databot feedback --limit 20 --days 30

Reads FEEDBACK_TABLE (bot/feedback.py). Exit codes: 0 printed; 2 FEEDBACK_TABLE not set.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=int, default=20, metavar="N",
                        help="how many of the latest votes to list (default 20)")
    parser.add_argument("--days", type=int, default=None, metavar="N",
                        help="count only votes of the last N days (default: all)")


def run(args: argparse.Namespace) -> int:
    from bot.config import ConfigError, Env
    from bot.feedback import UP, FeedbackConfig, Tally, Vote, tally

    try:
        store = FeedbackConfig.from_env(Env()).store()
    except ConfigError as e:
        print(f"databot feedback: {e}", file=sys.stderr)
        return 2
    votes = store.votes()
    if args.days is not None:
        since = (datetime.now(UTC) - timedelta(days=args.days)).strftime("%Y-%m-%dT%H:%M:%SZ")
        votes = [vote for vote in votes if vote.voted_at >= since]

    def line(vote: Vote) -> str:
        mark = "👍" if vote.value == UP else "👎"
        why = f" [{vote.reason}{': ' + vote.comment if vote.comment else ''}]" \
            if vote.reason else ""
        return f"{vote.voted_at}  {mark}  {vote.user_id}  {vote.job_id}  " \
               f"{(vote.question or '')[:80]!r}{why}"

    def table(title: str, tallies: list[Tally]) -> None:
        print(f"\n{title}")
        for row in tallies or [Tally("(none)")]:
            print(f"  {row.key:<40} 👍 {row.up:>4}  👎 {row.down:>4}  {row.share_up:>5.0%}")

    print(f"{len(votes)} votes" + (f" in the last {args.days} days" if args.days else ""))
    for vote in votes[: args.limit]:
        print("  " + line(vote))
    table("By verified entry", tally(votes, lambda v: v.entry_id if v.verified else None))
    table("By model", tally(votes, lambda v: v.model_id or ("verified library" if v.verified
                                                           else "no model")))
    return 0
