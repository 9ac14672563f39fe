"""Lambda entry point for the HTTP prompt API (`POST /prompt`, `GET /prompt/{job_id}`).
The API is built on the first request, once per container."""

from __future__ import annotations

import functools
from typing import Any

from bot.api.prompt_api import PromptApi
from bot.config import Env


@functools.cache
def _api() -> PromptApi:
    return PromptApi.from_env(Env())


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _api().handle(event)
