"""What a Bedrock call costs: USD per million input and output tokens, and per million
prompt tokens read from and written to the prompt cache, per model.

Prices are Bedrock's on-demand list prices; MODEL_PRICES in the environment overrides or
extends them. Cross-region inference profiles ("us.", "eu.", "apac.", "global." before the
model id) cost what the model costs. Bedrock's `inputTokens` counts only the prompt tokens
neither read from nor written to the cache; those come as `cacheReadInputTokens` and
`cacheWriteInputTokens`, each priced at its own rate (Claude: reads 0.1 times the input
price, writes 1.25 times; Amazon Nova: reads 0.25 times, writes at the input price).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.observability import service_logger

logger = service_logger()

PROFILE_PREFIXES = ("us.", "eu.", "apac.", "us-gov.", "global.")


@dataclass(frozen=True)
class Price:
    """USD per million tokens. Cache rates left out are the input rate: no discount is
    assumed where none is known."""

    input_per_million: float
    output_per_million: float
    cache_read_per_million: float | None = None
    cache_write_per_million: float | None = None

    def cost(self, tokens: TokenCounts) -> float:
        """USD for one call's tokens."""
        read = self.cache_read_per_million
        write = self.cache_write_per_million
        return (tokens.input * self.input_per_million
                + tokens.output * self.output_per_million
                + tokens.cache_read * (self.input_per_million if read is None else read)
                + tokens.cache_write * (self.input_per_million if write is None else write)
                ) / 1_000_000


@dataclass(frozen=True)
class TokenCounts:
    """One call's tokens: `input` billed at the full input price (Bedrock's inputTokens),
    `output`, and the prompt tokens read from and written to the cache."""

    input: int
    output: int
    cache_read: int = 0
    cache_write: int = 0


# A price override: (model id, input, output), optionally with (cache read, cache write),
# USD per million tokens; None leaves a cache rate to the input rate.
PriceOverride = (
    tuple[str, float, float] | tuple[str, float, float, float | None, float | None]
)

DEFAULT_PRICES: dict[str, Price] = {
    "anthropic.claude-sonnet-4-20250514-v1:0": Price(3.0, 15.0, 0.3, 3.75),
    "anthropic.claude-3-7-sonnet-20250219-v1:0": Price(3.0, 15.0, 0.3, 3.75),
    "anthropic.claude-3-5-sonnet-20241022-v2:0": Price(3.0, 15.0, 0.3, 3.75),
    "anthropic.claude-3-5-haiku-20241022-v1:0": Price(0.8, 4.0, 0.08, 1.0),
    "anthropic.claude-opus-4-20250514-v1:0": Price(15.0, 75.0, 1.5, 18.75),
    "amazon.nova-premier-v1:0": Price(2.5, 12.5, 0.625, 2.5),
    "amazon.nova-pro-v1:0": Price(0.8, 3.2, 0.2, 0.8),
    "amazon.nova-lite-v1:0": Price(0.06, 0.24, 0.015, 0.06),
    "amazon.nova-micro-v1:0": Price(0.035, 0.14, 0.00875, 0.035),
}


class PriceTable:
    def __init__(self, overrides: Iterable[PriceOverride] = ()) -> None:
        self._prices = dict(DEFAULT_PRICES)
        self._prices.update(
            {base_model_id(override[0]): Price(*override[1:]) for override in overrides}
        )

    def cost(self, model_id: str, tokens: TokenCounts) -> float:
        """USD for one call; 0.0 (and a warning) for a model with no known price."""
        price = self._prices.get(base_model_id(model_id))
        if price is None:
            logger.warning("model=<%s> | no price known; set MODEL_PRICES to count its cost",
                           model_id)
            return 0.0
        return price.cost(tokens)


def base_model_id(model_id: str) -> str:
    """The model id without an inference profile's prefix."""
    for prefix in PROFILE_PREFIXES:
        if model_id.startswith(prefix):
            return model_id.removeprefix(prefix)
    return model_id
