"""Slack mrkdwn: the one escape for untrusted text, the only two ways databot writes
Slack markup of its own (`Link`, `mention`), Markdown for the `markdown` block, and
splitting to sizes.

Slack parses `<…>` in every mrkdwn text and in the `markdown` block, code spans and
blocks included, as links and pings (`<!channel>`, `<!subteam^…>`, `<@U…>`, `<#C…>`,
`<url|label>`), and reads `&lt;` as `<` only after parsing. So all text that comes from
data, a model or a person passes through `escape` (`&` first, so `&lt;!channel&gt;` stays
literal text), and a `<…>` reaches Slack only when databot's own code builds it: a `Link`
to one of its artifacts or a `mention` of a checked user id. Markdown links in untrusted
text show as "label (url)": text to read, never a link that hides where it points. A
table block's `raw_text` cells are the one place Slack parses nothing: there text goes
through `plain` instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

_FENCE = "```"
_CODE_SPAN = re.compile(r"(`[^`\n]+`)")
_LINK = re.compile(r"!?\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
# What would make a link of what is left: brackets, and the backslash that escapes them.
_MARKDOWN_ESCAPES = re.compile(r"[\\\[\]]")
# Control characters other than tab and newline: invisible, and unsafe in any text.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Characters a URL inside `<url|label>` must not hold raw: they would end the link early.
_URL_UNSAFE = re.compile(r"[<>|\s\x00-\x1f\x7f]")
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")
_ENTITY_TAIL = re.compile(r"&[#a-zA-Z0-9]{0,6}$")


def escape(text: str) -> str:
    """Untrusted text as mrkdwn that Slack shows literally: no link, ping or entity in it
    can take effect. `&` goes first, so entities in the text stay text."""
    return plain(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain(text: str) -> str:
    """Untrusted text for a field Slack shows exactly as it is, never parsing it (a table
    block's `raw_text` cell, where `&lt;` would show as those four characters): only the
    invisible control characters go."""
    return _CONTROL.sub("", text)


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


def to_markdown(markdown: str) -> str:
    """Untrusted Markdown for Slack's `markdown` block, which renders Markdown itself: the
    formatting is kept, `escape` applies everywhere (code included: Slack reads its `<…>`
    tokens in this block too), links and images show as "label (url)", and the brackets
    and backslashes left are escaped, so no reference-style link can hide where it points."""
    out: list[str] = []
    in_fence = False
    for line in markdown.splitlines():
        if line.lstrip().startswith(_FENCE):
            in_fence = not in_fence
            out.append(_FENCE)
            continue
        out.append(escape(line) if in_fence else _convert_inline(line))
    if in_fence:
        out.append(_FENCE)
    return "\n".join(out)


def _convert_inline(text: str) -> str:
    parts = _CODE_SPAN.split(text)
    # Odd indexes are code spans: only escaped, never reformatted.
    return "".join(escape(p) if i % 2 else _convert_prose(p) for i, p in enumerate(parts))


def _convert_prose(text: str) -> str:
    text = escape(_LINK.sub(r"\1 (\2)", text))
    return _MARKDOWN_ESCAPES.sub(r"\\\g<0>", text)


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
