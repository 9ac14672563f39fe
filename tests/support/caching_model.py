"""A scripted Bedrock model that bills its prompts the way Bedrock's prompt caching does.

Each request is read in Bedrock's order (the tool specs, the system blocks, then the
messages) and its tokens estimated from the bytes of each block. At each `cachePoint`, the
prefix before it is looked up by its bytes: the longest prefix cached by an earlier request
is read from the cache (`cacheReadInputTokens`); the prefixes up to the later points are
written to it (`cacheWriteInputTokens`) when they reach `min_tokens`; the rest of the prompt
is `inputTokens`, billed at the full price. So what is billed follows the request's real
shape: a prefix that changes by one byte is a miss.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from tests.support.scripted_model import Broken, Response, ScriptedModel

# The scripted model's tokenizer: one token per four bytes of a block's JSON.
BYTES_PER_TOKEN = 4


class CachingModel(ScriptedModel):
    """Plays `responses` as ScriptedModel does, each with the usage Bedrock would report
    for the request that asked for it (its output tokens kept from the script)."""

    def __init__(self, responses: Sequence[Response | Broken | Exception], *,
                 min_tokens: int = 1_024, validate: bool = True) -> None:
        super().__init__(responses, validate=validate)
        self.min_tokens = min_tokens
        self._cached: set[str] = set()
        # The usage reported for each request, in order.
        self.usages: list[dict[str, int]] = []

    def _next(self, operation: str, request: dict[str, Any]) -> Response | Broken | Exception:
        response = super()._next(operation, request)
        if not isinstance(response, dict):
            return response
        usage = self.bill(request)
        output = response["usage"]["outputTokens"]
        prompt = usage["inputTokens"] + usage["cacheReadInputTokens"] + \
            usage["cacheWriteInputTokens"]
        usage = {**usage, "outputTokens": output, "totalTokens": prompt + output}
        self.usages.append(usage)
        return {**response, "usage": usage}

    def bill(self, request: dict[str, Any]) -> dict[str, int]:
        """The prompt's tokens: read from the cache, written to it, and the rest."""
        total = 0
        # (prefix key, prefix tokens) at each cache point, in order.
        points: list[tuple[str, int]] = []
        digest = hashlib.sha256()
        for block in _blocks(request):
            if "cachePoint" in block:
                points.append((digest.copy().hexdigest(), total))
                continue
            data = json.dumps(block, sort_keys=True).encode()
            digest.update(data)
            total += max(1, len(data) // BYTES_PER_TOKEN)
        read = 0
        for key, tokens in reversed(points):
            if key in self._cached:
                read = tokens
                break
        written = read
        for key, tokens in points:
            if tokens > read and tokens >= self.min_tokens:
                self._cached.add(key)
                written = tokens
        return {"inputTokens": total - written, "cacheReadInputTokens": read,
                "cacheWriteInputTokens": written - read}


def _blocks(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The request's blocks in the order Bedrock reads them, each message's role kept."""
    blocks = list(request.get("toolConfig", {}).get("tools", []))
    blocks += request.get("system", [])
    for message in request.get("messages", []):
        blocks += [block if "cachePoint" in block else {"role": message["role"], **block}
                   for block in message["content"]]
    return blocks
