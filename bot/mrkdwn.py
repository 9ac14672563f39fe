"""Markdown (what the model writes) to Slack mrkdwn, and splitting text to Slack's sizes.

Slack's mrkdwn is not Markdown: bold is `*x*`, italic `_x_`, strike `~x~`, links
`<url|text>`, no headings, and `&`, `<`, `>` must be escaped. Code spans and fenced
blocks are passed through untouched (only escaped).
"""

from __future__ import annotations

import re

_FENCE = "```"
_CODE_SPAN = re.compile(r"(`[^`\n]+`)")
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
# Markdown **bold** and __bold__.
BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_ITALIC_STAR = re.compile(r"(?<![*\w])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![*\w])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")
_BULLET = re.compile(r"^(\s*)[-*+]\s+")
_BOLD_MARK = "\x00"  # stands in for Slack's `*` until italics are converted


def escape(text: str) -> str:
    """Escape the three characters Slack reserves for its own markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_mrkdwn(markdown: str) -> str:
    """Convert Markdown to Slack mrkdwn, leaving code blocks and spans as they are."""
    out: list[str] = []
    in_fence = False
    for line in markdown.splitlines():
        if line.lstrip().startswith(_FENCE):
            in_fence = not in_fence
            out.append(_FENCE)
            continue
        out.append(escape(line) if in_fence else _convert_line(line))
    if in_fence:
        out.append(_FENCE)
    return "\n".join(out)


def _convert_line(line: str) -> str:
    heading = _HEADING.match(line)
    if heading:
        return f"*{_convert_inline(heading.group(1))}*"
    bullet = _BULLET.match(line)
    if bullet:
        return f"{bullet.group(1)}• {_convert_inline(line[bullet.end():])}"
    return _convert_inline(line)


def _convert_inline(text: str) -> str:
    parts = _CODE_SPAN.split(text)
    # Odd indexes are code spans: only escaped, never reformatted.
    return "".join(escape(p) if i % 2 else _convert_prose(p) for i, p in enumerate(parts))


def _convert_prose(text: str) -> str:
    links: list[str] = []

    def keep_link(match: re.Match[str]) -> str:
        links.append(f"<{match.group(2)}|{escape(match.group(1))}>")
        return f"\x01{len(links) - 1}\x01"

    text = escape(_LINK.sub(keep_link, text))
    text = BOLD.sub(lambda m: f"{_BOLD_MARK}{m.group(2)}{_BOLD_MARK}", text)
    text = _ITALIC_STAR.sub(r"_\1_", text)
    text = _STRIKE.sub(r"~\1~", text)
    text = text.replace(_BOLD_MARK, "*")
    return re.sub(r"\x01(\d+)\x01", lambda m: links[int(m.group(1))], text)


def split_text(text: str, limit: int) -> list[str]:
    """Split text into pieces of at most `limit` characters, at paragraph, then line,
    then word boundaries; a code fence cut in two is closed and reopened."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = _cut_point(rest, limit - len(_FENCE) - 1)
        head, rest = rest[:cut].rstrip("\n"), rest[cut:].lstrip("\n")
        if head.count(_FENCE) % 2:
            head, rest = f"{head}\n{_FENCE}", f"{_FENCE}\n{rest}"
        pieces.append(head)
    if rest.strip():
        pieces.append(rest)
    return pieces


def _cut_point(text: str, limit: int) -> int:
    for separator in ("\n\n", "\n", " "):
        cut = text.rfind(separator, 0, limit)
        if cut > limit // 2:
            return cut + len(separator)
    return limit
