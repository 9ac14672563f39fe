"""Slack mrkdwn: the one escape for untrusted text, the only two ways databot writes
Slack markup of its own (`Link`, `mention`), Markdown to mrkdwn, and splitting to sizes.

Slack parses `<…>` in every mrkdwn text, code spans and blocks included, as links and
pings (`<!channel>`, `<!subteam^…>`, `<@U…>`, `<#C…>`, `<url|label>`), and reads `&lt;`
as `<` only after parsing. So all text that comes from data, a model or a person passes
through `escape` (`&` first, so `&lt;!channel&gt;` stays literal text), and a `<…>`
reaches Slack only when databot's own code builds it: a `Link` to one of its artifacts or
a `mention` of a checked user id. Markdown links in untrusted text show as "label (url)":
text to read, never a link that hides where it points.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from bot.answer import BOLD

_FENCE = "```"
_CODE_SPAN = re.compile(r"(`[^`\n]+`)")
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_ITALIC_STAR = re.compile(r"(?<![*\w])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![*\w])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")
_BULLET = re.compile(r"^(\s*)[-*+]\s+")
_BOLD_MARK = "\x00"  # stands in for Slack's `*` until italics are converted
# Control characters other than tab and newline: invisible, and \x00 is _BOLD_MARK.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Characters a URL inside `<url|label>` must not hold raw: they would end the link early.
_URL_UNSAFE = re.compile(r"[<>|\s\x00-\x1f\x7f]")
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")
_ENTITY_TAIL = re.compile(r"&[#a-zA-Z0-9]{0,6}$")


def escape(text: str) -> str:
    """Untrusted text as mrkdwn that Slack shows literally: no link, ping or entity in it
    can take effect. `&` goes first, so entities in the text stay text."""
    text = _CONTROL.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True)
class Link:
    """A link databot made itself (to its own results): the only way `<url|label>` is
    written. The label is escaped; the URL must be http(s) and is percent-encoded where
    it could end the link."""

    url: str
    label: str

    def __post_init__(self) -> None:
        if not self.url.startswith(("https://", "http://")):
            raise ValueError("a Slack link needs an http(s) URL")

    def mrkdwn(self) -> str:
        url = _URL_UNSAFE.sub(lambda m: quote(m.group(), safe=""), self.url)
        return f"<{url}|{escape(self.label)}>"


def mention(user_id: str) -> str:
    """`<@U…>` for a well-formed Slack user id; anything else is shown as text."""
    return f"<@{user_id}>" if _USER_ID.fullmatch(user_id) else escape(user_id)


def clip(mrkdwn: str, limit: int) -> str:
    """Escaped text cut to at most `limit` characters, marked with "…", never inside an
    entity (a cut `&amp;` would show as a stray `&am`)."""
    if len(mrkdwn) <= limit:
        return mrkdwn
    head = mrkdwn[: limit - 1]
    return _ENTITY_TAIL.sub("", head) + "…"


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
    text = escape(_LINK.sub(r"\1 (\2)", text))
    text = BOLD.sub(lambda m: f"{_BOLD_MARK}{m.group(2)}{_BOLD_MARK}", text)
    text = _ITALIC_STAR.sub(r"_\1_", text)
    text = _STRIKE.sub(r"~\1~", text)
    return text.replace(_BOLD_MARK, "*")


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
    # No boundary: cut before an entity rather than through it.
    entity = _ENTITY_TAIL.search(text[:limit])
    return entity.start() if entity and entity.start() > 0 else limit
