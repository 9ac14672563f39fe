"""Which cache points a Converse request keeps, per model and prefix size."""

from __future__ import annotations

import copy
from typing import Any

from executor.agent.caching import CACHE_POINT, CHARS_PER_TOKEN, PromptCache

SONNET = "us.anthropic.claude-sonnet-4-20250514-v1:0"
HAIKU = "anthropic.claude-3-5-haiku-20241022-v1:0"
NOVA = "us.amazon.nova-pro-v1:0"


def text_of(tokens: int) -> str:
    """Text that the estimate counts as `tokens` tokens."""
    return "x" * (tokens * CHARS_PER_TOKEN)


def request(tools_tokens: int, stable_tokens: int) -> dict[str, Any]:
    """A request as the loop builds it: a point after the tool specs and one after the
    stable part of the system prompt."""
    spec = {"toolSpec": {"name": "t", "description": text_of(tools_tokens),
                         "inputSchema": {"json": {"type": "object"}}}}
    return {
        "messages": [{"role": "user", "content": [{"text": "q"}]}],
        "toolConfig": {"tools": [spec, CACHE_POINT]},
        "system": [{"text": text_of(stable_tokens)}, CACHE_POINT, {"text": "Dates: ..."}],
    }


def points(shaped: dict[str, Any]) -> tuple[int, int]:
    """How many cache points the tools and the system kept."""
    return (sum("cachePoint" in block for block in shaped["toolConfig"]["tools"]),
            sum("cachePoint" in block for block in shaped["system"]))


def test_claude_keeps_both_points_when_each_part_reaches_its_minimum() -> None:
    # GIVEN tool specs and a stable system part of 1,100 estimated tokens each
    sent = request(1_100, 1_100)
    before = copy.deepcopy(sent)
    shaped = PromptCache().for_model(SONNET, sent)
    # THEN Claude Sonnet 4 (1,024 tokens a checkpoint) keeps both, where the loop put them
    assert points(shaped) == (1, 1)
    assert shaped["system"][1] == CACHE_POINT and shaped["toolConfig"]["tools"][-1] == CACHE_POINT
    # AND the loop's request is left as it was
    assert sent == before


def test_a_point_whose_prefix_is_too_short_is_left_out() -> None:
    cache = PromptCache()
    # GIVEN short tool specs: their point is dropped, and they count towards the next one
    assert points(cache.for_model(SONNET, request(600, 600))) == (0, 1)
    # AND a prefix too short for any point keeps none
    assert points(cache.for_model(SONNET, request(300, 600))) == (0, 0)
    # AND Claude 3.5 Haiku needs 2,048 tokens a checkpoint
    assert points(cache.for_model(HAIKU, request(1_100, 1_100))) == (0, 1)
    assert points(cache.for_model(HAIKU, request(1_000, 1_000))) == (0, 0)


def test_nova_takes_a_point_in_the_system_prompt_only() -> None:
    cache = PromptCache()
    # GIVEN Nova, which caches system and messages but not tools
    shaped = cache.for_model(NOVA, request(1_100, 1_100))
    assert points(shaped) == (0, 1)
    # AND the tool specs do not count towards its system point
    assert points(cache.for_model(NOVA, request(5_000, 900))) == (0, 0)


def test_models_without_prompt_caching_get_no_points() -> None:
    cache = PromptCache()
    for model_id in ("anthropic.claude-3-5-sonnet-20241022-v2:0", "meta.llama3-70b", "my-model"):
        assert points(cache.for_model(model_id, request(5_000, 5_000))) == (0, 0)


def test_prompt_cache_off_sends_no_points() -> None:
    cache = PromptCache(enabled=False, overrides=[("my-model", 100)])
    assert cache.support(SONNET) is None
    assert points(cache.for_model(SONNET, request(5_000, 5_000))) == (0, 0)
    assert points(cache.for_model("my-model", request(5_000, 5_000))) == (0, 0)


def test_overrides_change_add_and_remove_models() -> None:
    # GIVEN PROMPT_CACHE_MODELS raising Sonnet's minimum, adding a model, dropping Nova Pro
    cache = PromptCache(overrides=[(SONNET, 4_000), ("eu.my-model", 500), (NOVA, 0)])
    # THEN Sonnet keeps its tools support with the new minimum
    support = cache.support("anthropic.claude-sonnet-4-20250514-v1:0")
    assert support is not None and (support.min_tokens, support.tools) == (4_000, True)
    assert points(cache.for_model(SONNET, request(1_100, 1_100))) == (0, 0)
    # AND the new model (any profile prefix) caches its system prompt only
    assert points(cache.for_model("us.my-model", request(1_100, 600))) == (0, 1)
    # AND Nova Pro no longer gets points
    assert cache.support(NOVA) is None
    assert points(cache.for_model(NOVA, request(5_000, 5_000))) == (0, 0)


def test_a_request_without_tools_or_points_passes_unchanged() -> None:
    sent = {"messages": [{"role": "user", "content": [{"text": "q"}]}],
            "system": [{"text": text_of(5_000)}]}
    assert PromptCache().for_model(SONNET, sent) == sent
