"""Replies in a thread of Slack's assistant container (`reply_to.surface == "assistant"`).

No placeholder: while the job runs the thread shows Slack's own status line
(assistant.threads.setStatus), whose `loading_messages` follow the agent's stages at most
once per `WORKER_PROGRESS_INTERVAL_S`. The answer's text streams into the thread as the
model writes it, finished with the answer's blocks (else the answer is posted whole), and
the status is cleared (Slack also removes a status when the app replies); a failure is
posted, so the error replaces the status. The thread takes its title from its first
question. A greeting job posts a short welcome and up to four suggested prompts.

The delivery guarantees are `SlackOutbox`'s (bot/slack/outbox.py): every message carries
a `Marker`, and a delivery that is not the job's first reads the thread back before
writing, so a takeover finds the greeting or the answer an earlier worker posted and
sends neither again (setting the status, prompts or title again only repeats the same
state).
"""

from __future__ import annotations

from bot.delivery import (
    WELCOME,
    Delivery,
    DeliveryError,
    Progress,
    Suggest,
    record_delivered,
)
from bot.observability import service_logger
from bot.slack.outbox import SlackOutbox
from bot.slack.render import SlackMessage, status_message
from bot.slack.replier import Marker, ThrottledStatus, find_marked

logger = service_logger()

WORKING = "is working on it…"
FIRST_STAGE = "Reading your question"
RETRYING = "hit a temporary problem; trying again shortly…"
PROMPTS_TITLE = "Try asking"
TITLE_CHARS = 100


class AssistantStatus(ThrottledStatus):
    """The agent's stages as the thread's status line instead of placeholder edits."""

    def _show(self, stage: str) -> None:
        self._replier.set_status(self._placeholder, WORKING, [f"{stage}…"])


class AssistantOutbox(SlackOutbox):
    def open(self) -> Progress:
        if not self._answered_before():
            self._nicety("set the title", lambda: self._replier.set_title(
                self._to, _title(self._job.text)))
        self._nicety("set the status", lambda: self._replier.set_status(
            self._to, WORKING, [f"{FIRST_STAGE}…"]))
        self._on_first_reply()
        self._status = AssistantStatus(self._replier, self._to, job_id=self._job.job_id,
                                       interval_s=self._progress_interval_s)
        return self._status

    def greet(self, suggest: Suggest) -> Delivery:
        job_id = self._job.job_id
        if self._claims <= 1 or find_marked(self._replier.scan(self._to), job_id,
                                            "greeting") is None:
            self._replier.post(self._to, status_message(WELCOME),
                               marker=Marker("greeting", job_id))
        viewing = self.viewing()
        prompts = suggest(viewing.words if viewing else "")
        if prompts:
            self._nicety("set the suggested prompts", lambda: self._replier.set_suggested_prompts(
                self._to, prompts, PROMPTS_TITLE))
        record_delivered(self._jobs, job_id, None)
        return Delivery()

    def retrying(self) -> None:
        self._stop_progress()
        self._drop_draft()
        self._nicety("set the retry status", lambda: self._replier.set_status(self._to, RETRYING))

    def _put_first(self, first: SlackMessage, head: Marker, messages: list[SlackMessage]) -> bool:
        # Posting the answer is the commit point, and clears the status.
        self._replier.post(self._to, first, marker=head)
        return True

    def _after_stream(self) -> None:
        # No placeholder here; the status is cleared as a posted reply would clear it.
        self._nicety("set the status", lambda: self._replier.set_status(self._to, ""))

    def _answered_before(self) -> bool:
        """Whether the thread already holds an answer (of any job): its title is set."""
        try:
            posted = self._replier.scan(self._to)
        except DeliveryError as e:
            logger.info("job_id=<%s> | cannot read the thread back (%s): not titled",
                        self._job.job_id, e)
            return True
        return any(p.marker is not None and p.marker.kind == "answer" for p in posted)


def _title(question: str) -> str:
    text = " ".join(question.split())
    return text if len(text) <= TITLE_CHARS else text[:TITLE_CHARS - 1] + "…"
