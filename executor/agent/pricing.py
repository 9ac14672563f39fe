"""What a Bedrock call costs: USD per million input and output tokens, per model.

Prices are Bedrock's on-demand list prices; MODEL_PRICES in the environment overrides or
extends them. Cross-region inference profiles ("us.", "eu.", "apac.", "global." before the
model id) cost what the model costs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.observability import service_logger

logger = service_logger()

PROFILE_PREFIXES = ("us.", "eu.", "apac.", "us-gov.", "global.")


@dataclass(frozen=True)
class Price:
    input_per_million: float
    output_per_million: float


DEFAULT_PRICES: dict[str, Price] = {
    "anthropic.claude-sonnet-4-20250514-v1:0": Price(3.0, 15.0),
    "anthropic.claude-3-7-sonnet-20250219-v1:0": Price(3.0, 15.0),
    "anthropic.claude-3-5-sonnet-20241022-v2:0": Price(3.0, 15.0),
    "anthropic.claude-3-5-haiku-20241022-v1:0": Price(0.8, 4.0),
    "anthropic.claude-opus-4-20250514-v1:0": Price(15.0, 75.0),
    "amazon.nova-premier-v1:0": Price(2.5, 12.5),
    "amazon.nova-pro-v1:0": Price(0.8, 3.2),
    "amazon.nova-lite-v1:0": Price(0.06, 0.24),
    "amazon.nova-micro-v1:0": Price(0.035, 0.14),
}


class PriceTable:
    def __init__(self, overrides: Iterable[tuple[str, float, float]] = ()) -> None:
        self._prices = dict(DEFAULT_PRICES)
        self._prices.update(
            {_base_id(model): Price(inp, out) for model, inp, out in overrides}
        )

    def cost(self, model_id: str, input_tokens: int, output_tokens: int) -> float:
        """USD for one call; 0.0 (and a warning) for a model with no known price."""
        price = self._prices.get(_base_id(model_id))
        if price is None:
            logger.warning("model=<%s> | no price known; set MODEL_PRICES to count its cost",
                           model_id)
            return 0.0
        return (input_tokens * price.input_per_million
                + output_tokens * price.output_per_million) / 1_000_000


def _base_id(model_id: str) -> str:
    for prefix in PROFILE_PREFIXES:
        if model_id.startswith(prefix):
            return model_id.removeprefix(prefix)
    return model_id
