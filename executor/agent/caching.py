"""Prompt caching on Bedrock: which cache points a Converse request keeps for the model called.

The loop marks where the stable prefix ends with `CACHE_POINT` blocks: after the tool specs
in `toolConfig.tools` and after the stable part of the system prompt. Bedrock reads a prefix
in the order tools, system, messages, and caches it up to each point. A point is kept only
for a model that supports caching (CACHE_MODELS, overridable by PROMPT_CACHE_MODELS), in a
field that model takes points in, and when the prefix since the previous kept point reaches
the model's minimum tokens per cache checkpoint; otherwise it is dropped from the request.
The fallback chain calls `for_model` for each model it tries, so a request always suits the
model that receives it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from executor.agent.pricing import base_model_id

CACHE_POINT: dict[str, Any] = {"cachePoint": {"type": "default"}}
# Bedrock takes at most four cache checkpoints per request.
MAX_POINTS = 4
# Tokens are estimated from characters on the low side (English prose runs about 4
# characters per token, JSON and SQL fewer), so a point is never kept below the minimum.
CHARS_PER_TOKEN = 4


@dataclass(frozen=True)
class CacheSupport:
    """A model's prompt caching: the fewest tokens a cache checkpoint covers, and whether
    it takes a point among the tools (Claude does; Amazon Nova caches system and messages
    only)."""

    min_tokens: int
    tools: bool


# Bedrock's prompt caching, per model (without the inference profile's prefix).
CACHE_MODELS: dict[str, CacheSupport] = {
    "anthropic.claude-sonnet-4-20250514-v1:0": CacheSupport(1_024, tools=True),
    "anthropic.claude-3-7-sonnet-20250219-v1:0": CacheSupport(1_024, tools=True),
    "anthropic.claude-opus-4-20250514-v1:0": CacheSupport(1_024, tools=True),
    "anthropic.claude-3-5-haiku-20241022-v1:0": CacheSupport(2_048, tools=True),
    "amazon.nova-premier-v1:0": CacheSupport(1_000, tools=False),
    "amazon.nova-pro-v1:0": CacheSupport(1_000, tools=False),
    "amazon.nova-lite-v1:0": CacheSupport(1_000, tools=False),
    "amazon.nova-micro-v1:0": CacheSupport(1_000, tools=False),
}


class PromptCache:
    """Which models get cache points: the built-in table with PROMPT_CACHE_MODELS's
    overrides ((model id, minimum tokens); 0 turns a model's caching off), or none when
    `enabled` is False (PROMPT_CACHE=off)."""

    def __init__(self, *, enabled: bool = True, overrides: Iterable[tuple[str, int]] = ()
                 ) -> None:
        models = dict(CACHE_MODELS) if enabled else {}
        for model_id, min_tokens in overrides if enabled else ():
            base = base_model_id(model_id)
            if min_tokens <= 0:
                models.pop(base, None)
                continue
            # A model the table does not know caches its system prompt only, which every
            # caching model accepts.
            known = models.get(base)
            models[base] = CacheSupport(min_tokens, tools=known.tools if known else False)
        self._models = models

    def support(self, model_id: str) -> CacheSupport | None:
        return self._models.get(base_model_id(model_id))

    def for_model(self, model_id: str, request: dict[str, Any]) -> dict[str, Any]:
        """`request` with only the cache points `model_id` takes and whose prefix is long
        enough; the request itself is not changed."""
        support = self.support(model_id)
        kept = 0
        tokens = 0

        def fit(blocks: list[dict[str, Any]], allowed: bool) -> list[dict[str, Any]]:
            nonlocal kept, tokens
            fitted = []
            for block in blocks:
                if "cachePoint" not in block:
                    tokens += _tokens(block)
                    fitted.append(block)
                elif (support is not None and allowed and kept < MAX_POINTS
                      and tokens >= support.min_tokens):
                    kept += 1
                    tokens = 0
                    fitted.append(block)
            return fitted

        shaped = dict(request)
        tool_config = request.get("toolConfig")
        if tool_config is not None:
            # A model that takes no point among the tools may not count them in the prefix.
            tools_cached = support is not None and support.tools
            tools = fit(tool_config["tools"], tools_cached)
            if not tools_cached:
                tokens = 0
            shaped["toolConfig"] = {**tool_config, "tools": tools}
        if "system" in request:
            shaped["system"] = fit(request["system"], True)
        return shaped


def _tokens(block: dict[str, Any]) -> int:
    """A low estimate of a block's tokens: its text, or a tool spec's JSON."""
    text = block["text"] if "text" in block else json.dumps(block)
    return len(text) // CHARS_PER_TOKEN
