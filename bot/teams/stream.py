"""The answer's text streamed into a Teams personal chat while the model writes it: the
`Draft` a Teams outbox hands the engine (bot.delivery), over Teams' streaming protocol
(Microsoft Teams platform docs, "Stream bot messages", REST API):

- each update is a `typing` activity POSTed to the conversation, carrying the whole text so
  far and a `streaminfo` entity: `streamType` "streaming", `streamSequence` 1, 2, 3…; the
  first POST answers the stream's id, which every later activity names as `streamId`;
- at most one update a second (Teams throttles faster streams): writes are buffered and go
  out at most once per STREAM_INTERVAL_S, the first at once;
- the stream ends with a `message` activity whose `streaminfo` entity says `streamType`
  "final" (and no sequence); attachments are allowed only there, so the answer's card
  goes in it and the streamed message becomes the answer.

Teams shows each update's text in place of the last, so a discarded draft needs no new
stream: the next update carries the new text only. Any Bot Connector failure (a stream
the person stopped, one past Teams' two minutes, throttling) turns streaming off for the
job: the answer then arrives whole, in the placeholder.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.delivery import DeliveryError
from bot.job import ReplyTo
from bot.observability import service_logger
from bot.teams.connector import Connector
from bot.teams.messages import Activity

logger = service_logger()

STREAM_INTERVAL_S = 1.5
STREAMINFO = "streaminfo"


class TeamsDraft:
    """A `Draft` streamed into the personal chat `to` (the person's message). `on_start(id)`
    is told the streamed message's id when the first update is out."""

    def __init__(
        self,
        connector: Connector,
        to: ReplyTo,
        *,
        job_id: str,
        on_start: Callable[[str], None],
        interval_s: float = STREAM_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        assert to.service_url and to.conversation_id
        self._connector = connector
        self._service_url = to.service_url
        self._conversation = to.conversation_id
        self._reply_to_id = to.activity_id
        self._job_id = job_id
        self._on_start = on_start
        self._interval_s = interval_s
        self._clock = clock
        self._stream_id: str | None = None
        self._sequence = 0
        self._text = ""
        self._shown = ""
        self._last_update = float("-inf")
        self._off = False

    @property
    def stream_id(self) -> str | None:
        """The streamed message's id, once the first update is out."""
        return self._stream_id

    def write(self, text: str) -> None:
        if self._off:
            return
        self._text += text
        if self._clock() - self._last_update >= self._interval_s:
            self._update()

    def discard(self) -> None:
        # The next update shows the new text in place of this one.
        self._text = ""

    def finish(self, answer: Activity) -> bool:
        """End the stream with `answer` (a message activity) as its final message. False
        when it cannot (nothing streamed, or streaming failed): then the caller sends the
        answer the usual way."""
        if self._off or self._stream_id is None:
            return False
        final = {**answer, "text": answer.get("text", ""),
                 "entities": [*answer.get("entities", []),
                              {"type": STREAMINFO, "streamId": self._stream_id,
                               "streamType": "final"}]}
        if not self._post(final):
            return False
        self._off = True
        return True

    def _update(self) -> None:
        if not self._text.strip() or self._text == self._shown:
            return
        info: dict[str, object] = {"type": STREAMINFO, "streamType": "streaming",
                                   "streamSequence": self._sequence + 1}
        if self._stream_id is not None:
            info["streamId"] = self._stream_id
        text = self._text
        if not self._post({"type": "typing", "textFormat": "markdown", "text": text,
                           "entities": [info]}):
            return
        self._sequence += 1
        self._shown = text
        self._last_update = self._clock()

    def _post(self, activity: Activity) -> bool:
        try:
            sent = self._connector.send(self._service_url, self._conversation,
                                        {**activity, "replyToId": self._reply_to_id})
        except DeliveryError as e:
            logger.warning("job_id=<%s> | streaming the answer failed (%s): it will arrive "
                           "whole", self._job_id, e)
            self._off = True
            return False
        if self._stream_id is None:
            if not sent:
                logger.warning("job_id=<%s> | Teams started a stream without an id: the "
                               "answer will arrive whole", self._job_id)
                self._off = True
                return False
            self._stream_id = sent
            self._on_start(sent)
        return True
