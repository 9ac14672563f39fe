"""What a Bedrock call costs, prompt cache reads and writes included."""

from __future__ import annotations

import pytest

from executor.agent.pricing import PriceTable, TokenCounts

SONNET = "us.anthropic.claude-sonnet-4-20250514-v1:0"


def test_prices_cover_inference_profiles_and_can_be_overridden() -> None:
    prices = PriceTable([("us.amazon.nova-pro-v1:0", 1.0, 4.0), ("my-model", 2.0, 2.0)])
    # Claude Sonnet 4 list price: $3 in, $15 out per million tokens
    sonnet = prices.cost(SONNET, TokenCounts(1_000_000, 100_000))
    assert sonnet == pytest.approx(3.0 + 1.5)
    assert prices.cost("eu.amazon.nova-pro-v1:0", TokenCounts(500_000, 250_000)) == \
        pytest.approx(0.5 + 1.0)
    assert prices.cost("my-model", TokenCounts(1_000_000, 0)) == pytest.approx(2.0)
    assert prices.cost("unknown-model", TokenCounts(1_000_000, 1_000_000)) == 0.0


def test_cache_reads_and_writes_have_their_own_rates() -> None:
    prices = PriceTable()
    # GIVEN a million tokens read from the cache and a million written, nothing else
    # THEN Claude Sonnet 4 bills reads at a tenth of its input price and writes at 1.25 times
    assert prices.cost(SONNET, TokenCounts(0, 0, cache_read=1_000_000)) == pytest.approx(0.3)
    assert prices.cost(SONNET, TokenCounts(0, 0, cache_write=1_000_000)) == pytest.approx(3.75)
    # AND Amazon Nova Pro bills reads at a quarter of its input price, writes at the input price
    nova = "us.amazon.nova-pro-v1:0"
    assert prices.cost(nova, TokenCounts(0, 0, cache_read=1_000_000)) == pytest.approx(0.2)
    assert prices.cost(nova, TokenCounts(0, 0, cache_write=1_000_000)) == pytest.approx(0.8)
    # AND a call adds the four together
    both = TokenCounts(2_000, 500, cache_read=10_000, cache_write=3_000)
    assert prices.cost(SONNET, both) == pytest.approx(
        (2_000 * 3 + 500 * 15 + 10_000 * 0.3 + 3_000 * 3.75) / 1e6)


def test_overrides_may_give_cache_rates_or_leave_them_to_the_input_rate() -> None:
    # GIVEN MODEL_PRICES with cache rates for one model and the old two rates for others
    prices = PriceTable([
        ("with-cache", 2.0, 8.0, 0.5, 2.5),
        ("old-style", 2.0, 8.0),
        (SONNET, 4.0, 20.0, None, None),
    ])
    reads = TokenCounts(0, 0, cache_read=1_000_000)
    writes = TokenCounts(0, 0, cache_write=1_000_000)
    # THEN the given rates are used
    assert prices.cost("with-cache", reads) == pytest.approx(0.5)
    assert prices.cost("with-cache", writes) == pytest.approx(2.5)
    # AND without them, cache tokens cost what input tokens cost (no discount assumed)
    assert prices.cost("old-style", reads) == pytest.approx(2.0)
    assert prices.cost("old-style", writes) == pytest.approx(2.0)
    assert prices.cost(SONNET, reads) == pytest.approx(4.0)
