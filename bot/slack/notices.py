"""The short messages the ingress answers with itself, without queueing a job."""

from __future__ import annotations

from bot.slack.mrkdwn import escape

EXAMPLE_QUESTIONS = (
    "how many users signed up each month this year?",
    "which countries bring the most revenue from purchases?",
    "what share of pro users churned, by acquisition channel?",
)

NOT_ALLOWED = (
    "Sorry, I'm not enabled for this workspace, channel or account. "
    "Ask your Slack admin if you need access."
)

NOT_QUEUED = "Sorry, I couldn't take that question just now. Please try again in a minute."


def usage_hint(how_to_ask: str = "") -> str:
    """`how_to_ask` is how this surface addresses the bot: "<@U…>", "/ask", or nothing in a DM."""
    prefix = f"{how_to_ask} " if how_to_ask else ""
    examples = "\n".join(f"• {prefix}{question}" for question in EXAMPLE_QUESTIONS)
    return f"Ask me a question about your data, for example:\n{examples}"


def too_long(problem: str) -> str:
    return f"Sorry, I can't take that: {problem}. Please shorten it and ask again."


def working_on_it(question: str, preview_chars: int = 200) -> str:
    preview = question if len(question) <= preview_chars else question[:preview_chars] + "…"
    # The question is the person's text: Slack must not read mentions or links in it.
    return f"Working on it:\n>{escape(preview)}"
