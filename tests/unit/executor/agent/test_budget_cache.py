"""A job's budget: cache tokens recorded, priced and counted towards the token limit."""

from __future__ import annotations

import pytest

from executor.agent.budget import Budget, QuestionLimits
from executor.agent.pricing import PriceTable
from executor.errors import BudgetExceeded

SONNET = "us.anthropic.claude-sonnet-4-20250514-v1:0"


def test_spend_records_and_prices_the_prompt_tokens_read_from_and_written_to_the_cache() -> None:
    budget = Budget(QuestionLimits(10, 100_000, 60.0), PriceTable(), clock=lambda: 0.0)
    budget.spend(SONNET, {"inputTokens": 100, "outputTokens": 10,
                          "cacheWriteInputTokens": 2_000})
    budget.spend(SONNET, {"inputTokens": 150, "outputTokens": 20,
                          "cacheReadInputTokens": 2_000})
    usage = budget.final_usage()
    assert (usage.input_tokens, usage.output_tokens) == (250, 30)
    assert (usage.cache_read_tokens, usage.cache_write_tokens) == (2_000, 2_000)
    assert usage.cost_usd == pytest.approx(
        (250 * 3 + 30 * 15 + 2_000 * 3.75 + 2_000 * 0.3) / 1e6, abs=1e-6)


def test_cached_prompt_tokens_count_towards_the_token_limit() -> None:
    # GIVEN a limit of 5,000 tokens and a call whose prompt was mostly read from the cache
    budget = Budget(QuestionLimits(10, 5_000, 60.0), PriceTable(), clock=lambda: 0.0)
    budget.spend(SONNET, {"inputTokens": 100, "outputTokens": 100,
                          "cacheReadInputTokens": 4_800})
    # THEN the next call is over the limit, as it was before the prompt was cached
    with pytest.raises(BudgetExceeded, match="5,000 tokens"):
        budget.check()
