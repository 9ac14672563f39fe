"""The question text itself: cleaning a Slack message into a question, and its limits."""

from __future__ import annotations

import re

# Any user mention, with or without a display label: <@U0123> or <@U0123|name>.
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_DOUBLE_SPACE = re.compile(r" {2,}")


def strip_bot_mention(text: str, bot_user_id: str | None) -> str:
    """The message text without the bot's own @mentions, trimmed.

    Without a known bot user id only a leading mention is taken to be the bot's: that is
    how an app_mention addresses it. Other people's mentions stay in the question.
    """
    if bot_user_id:
        stripped = _MENTION.sub(lambda m: "" if m.group(1) == bot_user_id else m.group(0), text)
    else:
        text = text.lstrip()
        stripped = _MENTION.sub("", text, count=1) if _MENTION.match(text) else text
    return _DOUBLE_SPACE.sub(" ", stripped).strip()


def length_problem(text: str, max_chars: int) -> str | None:
    """Why `text` is too long to take, or None when it fits."""
    if len(text) <= max_chars:
        return None
    return f"the question is {len(text):,} characters long; the limit is {max_chars:,}"
