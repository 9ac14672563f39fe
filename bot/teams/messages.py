"""Teams' plain text messages (placeholder, progress, failures, notes): standard library
only, so the dead-letter notifier can tell a person about a failure without the card
library (bot/teams/cards.py)."""

from __future__ import annotations

from typing import Any

from bot.answer import BOLD

Activity = dict[str, Any]


def text_message(text: str) -> Activity:
    return {"type": "message", "textFormat": "markdown", "text": text}


def status_message(stage: str) -> Activity:
    """The placeholder while the engine works: "⏳ Running SQL (2nd try)"."""
    return text_message(f"⏳ {one_line(stage)[:300]}")


def placeholder() -> Activity:
    return status_message("Working on it…")


def error_message(message: str, job_id: str) -> Activity:
    """A failure the person should read, with the reference for support."""
    return text_message(f"⚠️ {message}\n\nref {job_id}")


def one_line(text: str) -> str:
    """One line of plain text (a notification, a fallback): Markdown bold unmarked."""
    return " ".join(BOLD.sub(r"\2", text).split())
