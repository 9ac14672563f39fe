"""The answer's text streamed into a Slack thread while the model writes it: the `Draft` a
Slack outbox hands the engine (bot.delivery), over chat.startStream / appendStream /
stopStream (slack_sdk's ChatStream, through `SlackReplier.stream`).

What is streamed is what the answer's first message would show: the text converted with
`to_markdown`. Text goes out word by word as long as what follows cannot change how it
converts: a line holding a code span or a link goes out once it is complete, a fenced
code block once it is closed. Appends go at most once per STREAM_INTERVAL_S (the
first at once), each well under Slack's 12,000 characters per call; beyond
MAX_MARKDOWN_CHARS of text the stream stops growing and the answer replaces it whole.

`finish` stops the stream with the rest of the answer's text, the answer's blocks and its
`Marker`: that makes the streamed message the answer's first message. Where it cannot
(the stream failed, or the answer is not the text streamed, as when a budget cap ended
the job), the stream is stopped and deleted and the caller sends the answer the usual way.
Any Slack failure while streaming turns streaming off for the job: the answer then
arrives whole, nothing is lost.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.delivery import DeliveryError
from bot.job import ReplyTo
from bot.observability import service_logger
from bot.slack.mrkdwn import to_markdown
from bot.slack.render import MAX_MARKDOWN_CHARS, SlackMessage
from bot.slack.replier import Marker, SlackReplier, SlackStream

logger = service_logger()

# At most one append per this many seconds: far under chat.appendStream's rate limit.
STREAM_INTERVAL_S = 1.0
FENCE = "```"
# Characters that may open a code span or a link, whose conversion depends on what follows.
LOOK_AHEAD = frozenset("`[")


class StreamedDraft:
    """A `Draft` streamed into `thread` for `user_id`. `on_start(ts)` is told the streamed
    message's ts when it appears, `on_discard()` when it is taken back."""

    def __init__(
        self,
        replier: SlackReplier,
        thread: ReplyTo,
        *,
        user_id: str,
        job_id: str,
        on_start: Callable[[str], None],
        on_discard: Callable[[], None],
        interval_s: float = STREAM_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._replier = replier
        self._thread = thread
        self._user_id = user_id
        self._job_id = job_id
        self._on_start = on_start
        self._on_discard = on_discard
        self._interval_s = interval_s
        self._clock = clock
        self._stream: SlackStream | None = None
        self._raw = ""
        # Markdown appended to the message, and converted but not appended yet.
        self._sent = ""
        self._pending = ""
        self._last_append = float("-inf")
        self._off = False

    @property
    def started(self) -> bool:
        return self._stream is not None

    def write(self, text: str) -> None:
        if self._off:
            return
        self._raw += text
        shown = _streamable_markdown(self._raw)
        streamed = self._sent + self._pending
        if len(shown) > MAX_MARKDOWN_CHARS or not shown.startswith(streamed):
            # Too long for one message, or not a continuation: the answer replaces it.
            return
        self._pending += shown[len(streamed):]
        if self._pending and self._clock() - self._last_append >= self._interval_s:
            self._append()

    def discard(self) -> None:
        self._take_back()
        self._raw, self._sent, self._pending = "", "", ""
        # A new stream starts with the next text at once.
        self._last_append = float("-inf")

    def finish(self, markdown: str, message: SlackMessage, marker: Marker) -> bool:
        """Make the streamed message the answer: `markdown` its whole text, `message` the
        blocks below it. False when it cannot (nothing streamed, streaming failed, or the
        text streamed is not the answer's): then nothing of the stream is left."""
        if self._stream is None:
            return False
        if self._off or not markdown.startswith(self._sent) or len(markdown) > \
                MAX_MARKDOWN_CHARS:
            self._take_back()
            return False
        try:
            self._stream.stop(markdown[len(self._sent):], message, marker=marker)
        except DeliveryError as e:
            logger.warning("job_id=<%s> | could not finish the streamed answer (%s): "
                           "sending it whole", self._job_id, e)
            self._take_back()
            return False
        return True

    def _append(self) -> None:
        text, self._pending = self._pending, ""
        try:
            if self._stream is None:
                self._stream = self._replier.stream(self._thread, self._user_id)
                self._stream.append(text)
                if self._stream.ts:
                    self._on_start(self._stream.ts)
            else:
                self._stream.append(text)
        except DeliveryError as e:
            logger.warning("job_id=<%s> | streaming the answer failed (%s): it will arrive "
                           "whole", self._job_id, e)
            self._off = True
            return
        self._sent += text
        self._last_append = self._clock()

    def _take_back(self) -> None:
        """Stop and delete the streamed message, if there is one (best effort: a message
        left behind is still replaced by the answer below it)."""
        stream, self._stream = self._stream, None
        if stream is None or stream.ts is None:
            return
        at = self._thread.at(stream.ts)
        try:
            stream.stop()
        except DeliveryError as e:
            logger.info("job_id=<%s> | stopping the stream: %s", self._job_id, e)
        try:
            self._replier.delete(at)
        except DeliveryError as e:
            logger.warning("job_id=<%s> | could not delete the streamed draft %s: %s",
                           self._job_id, stream.ts, e)
        self._on_discard()


def _streamable_markdown(raw: str) -> str:
    """As much of `raw` as `to_markdown` converts the same way whatever follows: the
    complete lines up to the last one outside a code fence, then, when no fence is open,
    the whole words of the line being written that come before any code span or link
    (the two conversions that look ahead). Trailing space is left out,
    as the answer's text ends without it."""
    *lines, partial = raw.lstrip().split("\n")
    fenced = False
    end = 0
    for number, line in enumerate(lines, start=1):
        if line.lstrip().startswith(FENCE):
            fenced = not fenced
        if not fenced:
            end = number
    shown = lines[:end]
    head = partial[:min((partial.find(c) for c in LOOK_AHEAD if c in partial),
                        default=len(partial))]
    if end == len(lines) and " " in head:
        shown.append(head[:head.rfind(" ")])
    return to_markdown("\n".join(shown)).rstrip()
