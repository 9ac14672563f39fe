"""A job's budget (model calls, tokens, wall time) and the usage and cost it has run up."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.answer import Usage
from executor.agent.pricing import PriceTable, TokenCounts
from executor.errors import BudgetExceeded

if TYPE_CHECKING:
    from executor.governance.budgets import Allowance


@dataclass(frozen=True)
class QuestionLimits:
    """What answering one question may use: model calls, tokens and wall time."""

    max_turns: int
    max_total_tokens: int
    max_seconds: float


class Budget:
    """Counts what a job spends; `check` raises BudgetExceeded before a call over the limit,
    this question's or the asker's spend limit (`allowance`, which each call is charged to)."""

    def __init__(
        self,
        limits: QuestionLimits,
        prices: PriceTable,
        clock: Callable[[], float] = time.monotonic,
        allowance: Allowance | None = None,
    ) -> None:
        self._limits = limits
        self._prices = prices
        self._clock = clock
        self._allowance = allowance
        self._started = clock()
        self.usage = Usage()
        self.turns = 0

    def check(self) -> None:
        limits = self._limits
        if self.turns >= limits.max_turns:
            raise BudgetExceeded(f"the limit of {limits.max_turns} model calls per question")
        # Cached prompt tokens count too: the limit holds whether or not a prefix was cached.
        usage = self.usage
        tokens = (usage.input_tokens + usage.output_tokens + usage.cache_read_tokens
                  + usage.cache_write_tokens)
        if tokens >= limits.max_total_tokens:
            raise BudgetExceeded(f"the limit of {limits.max_total_tokens:,} tokens per question")
        if self.elapsed() >= limits.max_seconds:
            raise BudgetExceeded(f"the time limit of {limits.max_seconds:g} seconds per question")
        if self._allowance is not None:
            self._allowance.before_call()

    def spend(self, model_id: str, usage: dict[str, Any]) -> None:
        """Record one Converse (or ConverseStream) call's `usage`, priced for the model that
        made it. Bedrock's inputTokens leaves out the prompt tokens read from or written to
        the cache, which come apart."""
        tokens = TokenCounts(
            input=int(usage.get("inputTokens", 0)),
            output=int(usage.get("outputTokens", 0)),
            cache_read=int(usage.get("cacheReadInputTokens", 0)),
            cache_write=int(usage.get("cacheWriteInputTokens", 0)),
        )
        self.turns += 1
        self.usage.model_id = model_id
        self.usage.input_tokens += tokens.input
        self.usage.output_tokens += tokens.output
        self.usage.cache_read_tokens += tokens.cache_read
        self.usage.cache_write_tokens += tokens.cache_write
        cost = self._prices.cost(model_id, tokens)
        self.usage.cost_usd += cost
        if self._allowance is not None:
            self._allowance.charge(Usage(
                model_id=model_id, input_tokens=tokens.input, output_tokens=tokens.output,
                cache_read_tokens=tokens.cache_read, cache_write_tokens=tokens.cache_write,
                cost_usd=cost,
            ))

    def elapsed(self) -> float:
        return self._clock() - self._started

    def final_usage(self) -> Usage:
        return Usage(
            model_id=self.usage.model_id,
            input_tokens=self.usage.input_tokens,
            output_tokens=self.usage.output_tokens,
            cache_read_tokens=self.usage.cache_read_tokens,
            cache_write_tokens=self.usage.cache_write_tokens,
            cost_usd=round(self.usage.cost_usd, 6),
            seconds=round(self.elapsed(), 3),
        )
