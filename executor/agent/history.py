"""Earlier turns of the conversation as Converse messages, so follow-ups can build on them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from executor.engine import Turn

# Enough context for follow-ups in a thread; older turns cost tokens and rarely matter.
MAX_TURNS = 8

Message = dict[str, Any]


def user_message(text: str) -> Message:
    return {"role": "user", "content": [{"text": text}]}


def first_question(history: Sequence[Turn]) -> str | None:
    """The first question among the turns the model is shown; None without history."""
    shown = history[-MAX_TURNS:]
    return shown[0].question if shown else None


def history_messages(history: Sequence[Turn]) -> list[Message]:
    """Each earlier turn as the person's question and databot's answer with its SQL."""
    messages: list[Message] = []
    for turn in history[-MAX_TURNS:]:
        reply = turn.answer.strip() or "(no answer)"
        if turn.sql:
            statements = "\n\n".join(sql.strip() for sql in turn.sql)
            reply += f"\n\nSQL used:\n```sql\n{statements}\n```"
        messages.append(user_message(turn.question))
        messages.append({"role": "assistant", "content": [{"text": reply}]})
    return messages
