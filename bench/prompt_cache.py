"""Prompt caching: the prompt tokens billed at the full price per question, before and after.

A conversation of a question and two follow-ups on the sample data, three model calls each
(run one query, draft, confirm on reflection), with the verified library's closest entries
as worked examples, answered by Claude Sonnet 4 twice: with PROMPT_CACHE=off (no cache
point, as before) and with caching on. The scripted model bills each request the way
Bedrock does (tests/support/caching_model.py): from the request's own bytes and cache
points, a prefix seen before is read from the cache, a new one written to it, the rest
billed at the full input price. Target: at least 60 % less full-price input on follow-ups.

Also printed: how many of each follow-up's closest worked examples are the first question's.
The stable prefix shows the first question's examples (and tables, in a large warehouse), so
it stays the same bytes through the conversation; had it shown each question's own, every
follow-up whose examples differ would write a new prefix instead of reading one.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from bot.answer import Usage
from executor.agent import create_agent
from executor.artifacts import open_artifact_store
from executor.config import ArtifactsConfig, ModelConfig, SandboxConfig, WarehouseConfig
from executor.engine import Request, Turn
from executor.verified.answerer import WorkedExample
from executor.verified.library import load_library
from executor.verified.matcher import Matcher
from executor.warehouse.factory import open_warehouse
from tests.support.caching_model import CachingModel
from tests.support.scripted_model import answer_script

MODEL = "us.anthropic.claude-sonnet-4-20250514-v1:0"
TARGET = 0.60
MATCHER = Matcher(load_library())
CONVERSATION = [
    ("Which plan has the most users, and how many are on each?",
     "SELECT plan, COUNT(*) AS users FROM users GROUP BY plan ORDER BY users DESC",
     "Free leads, then pro and enterprise."),
    ("And how did signups move, month by month?",
     "SELECT DATE_TRUNC('month', signup_date) AS month, COUNT(*) AS signups "
     "FROM users GROUP BY 1 ORDER BY 1",
     "Signups grew through the year."),
    ("Split that by country for the latest full month",
     "SELECT country, COUNT(*) AS signups FROM users WHERE signup_date >= DATE '2026-10-01' "
     "AND signup_date < DATE '2026-11-01' GROUP BY 1 ORDER BY 2 DESC",
     "The US leads October's signups."),
]


def main() -> None:
    before = _run(cache=False)
    after = _run(cache=True)
    print(f"conversation: a question and {len(CONVERSATION) - 1} follow-ups, 3 model calls "
          f"each, {MODEL}")
    print("question     full-price input tokens       cost (USD)              cached")
    print("               before   after  saved       before    after   saved   read / written")
    for number, (old, new) in enumerate(zip(before, after, strict=True)):
        label = "first" if number == 0 else f"follow-up {number}"
        print(f"{label:<12} {old.input_tokens:>7,} {new.input_tokens:>7,} "
              f"{_saved(old.input_tokens, new.input_tokens):>6}     "
              f"${old.cost_usd:.4f} ${new.cost_usd:.4f} {_saved(old.cost_usd, new.cost_usd):>6}"
              f"   {new.cache_read_tokens:,} / {new.cache_write_tokens:,}")
    follow_before = sum(usage.input_tokens for usage in before[1:])
    follow_after = sum(usage.input_tokens for usage in after[1:])
    saved = 1 - follow_after / follow_before
    total_before = sum(usage.cost_usd for usage in before)
    total_after = sum(usage.cost_usd for usage in after)
    print(f"follow-ups: {follow_before:,} -> {follow_after:,} full-price input tokens "
          f"({saved:.0%} less); the conversation's cost ${total_before:.4f} -> "
          f"${total_after:.4f} ({1 - total_after / total_before:.0%} less)")
    first = {example.question for example in _examples(CONVERSATION[0][0])}
    for number, (question, _, _) in enumerate(CONVERSATION[1:], start=1):
        own = [example.question for example in _examples(question)]
        print(f"follow-up {number}: {sum(q in first for q in own)} of its {len(own)} closest "
              f"worked examples are the first question's")
    verdict = "PASS" if saved >= TARGET else "FAIL"
    print(f"verdict: {verdict} (target: at least {TARGET:.0%} less full-price input on "
          f"follow-ups)")


def _run(*, cache: bool) -> list[Usage]:
    """Each question's usage through the conversation, with or without prompt caching."""
    warehouse = open_warehouse(WarehouseConfig())
    script = [response for _, sql, text in CONVERSATION for response in answer_script(sql, text)]
    model = CachingModel(script)
    usages = []
    try:
        with tempfile.TemporaryDirectory(prefix="databot-bench-") as folder:
            artifacts = open_artifact_store(ArtifactsConfig(results_dir=Path(folder)))
            agent = create_agent(ModelConfig(model_ids=(MODEL,), prompt_cache=cache),
                                 SandboxConfig(), warehouse, artifacts, client=model,
                                 examples=_examples)
            history: list[Turn] = []
            for number, (question, _, _) in enumerate(CONVERSATION):
                answer = agent.answer(Request(job_id=f"bench-{number}", question=question,
                                              history=list(history)))
                usages.append(answer.usage)
                history.append(Turn(question, answer.sql, answer.text))
    finally:
        warehouse.close()
    return usages


def _examples(question: str) -> Sequence[WorkedExample]:
    """The verified library's entries closest to the question, as the router gives them."""
    return [WorkedExample(entry.question, entry.sql) for entry in MATCHER.closest(question)]


def _saved(before: float, after: float) -> str:
    return f"{1 - after / before:.0%}" if before else "-"
