"""Replies to a mention in a channel thread: Slack's status line while the job runs, where
Slack allows it, else today's placeholder and its edits.

assistant.threads.setStatus takes the `chat:write` scope, so apps use AI loading states in
channel threads too, outside the assistant container (docs/slack.md, "Status in channel
threads"). The status line follows the agent's stages as in an assistant thread, and
posting the answer into the thread clears it. Where Slack refuses the status (an older
workspace, a conversation that takes none), the job falls back to `SlackOutbox`'s
placeholder, and so does a takeover that finds an earlier delivery's placeholder.
"""

from __future__ import annotations

from bot.delivery import DeliveryError, Progress
from bot.observability import service_logger
from bot.slack.assistant import FIRST_STAGE, RETRYING, WORKING, AssistantStatus
from bot.slack.outbox import SlackOutbox
from bot.slack.render import SlackMessage
from bot.slack.replier import Marker

logger = service_logger()


class ChannelThreadOutbox(SlackOutbox):
    def open(self) -> Progress:
        if self._to.message is not None:
            return super().open()  # an earlier delivery's placeholder: edit it
        try:
            self._replier.set_status(self._to, WORKING, [f"{FIRST_STAGE}…"])
        except DeliveryError as e:
            logger.info("job_id=<%s> | no status in this thread (%s): placeholder instead",
                        self._job.job_id, e.error or e)
            return super().open()
        self._on_first_reply()
        self._status = AssistantStatus(self._replier, self._to, job_id=self._job.job_id,
                                       interval_s=self._progress_interval_s)
        return self._status

    def retrying(self) -> None:
        if self._to.message is not None:
            super().retrying()
            return
        self._stop_progress()
        self._nicety("set the retry status", lambda: self._replier.set_status(self._to, RETRYING))

    def _after_stream(self) -> None:
        if self._to.message is not None:
            super()._after_stream()  # the placeholder above the streamed answer goes
            return
        # No placeholder: the status is cleared, as a posted reply would clear it.
        self._nicety("clear the status", lambda: self._replier.set_status(self._to, ""))

    def _put_first(self, first: SlackMessage, head: Marker, messages: list[SlackMessage]) -> bool:
        if self._to.message is not None:
            return super()._put_first(first, head, messages)
        # No placeholder to replace: posting the answer is the commit point, and clears
        # the status.
        self._replier.post(self._to, first, marker=head)
        return True
