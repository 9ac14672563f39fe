"""The Bolt listeners of the ingress: turn mentions, DMs, `/ask`, and new threads and
questions of Slack's assistant container into queued Jobs.

The app runs with `process_before_response=True`, so everything here happens before Slack
gets its answer. The only network call is the SQS send (and, in assistant threads, the
thread context's one write or read: bot/slack/thread_context.py); a question is queued
without an idempotency write, because the worker drops a second message of the same job
(Slack's retry of an event) unanswered; the
exceptions are the short notices for an event that cannot become a job (empty, too long,
not allowed), posted with one chat.postEphemeral because an Events API response body is
never shown to anyone (see docs/ingress.md). A mention or DM from someone of another
organisation that is not let in is dropped with a log line and no notice: nothing is posted
to outsiders in a shared channel. A slash command's refusal is its private ack.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App, Assistant, BoltRequest
from slack_bolt.context.assistant.thread_context_store.store import AssistantThreadContextStore
from slack_bolt.context.get_thread_context import GetThreadContext
from slack_bolt.context.save_thread_context import SaveThreadContext
from slack_sdk import WebClient

from bot.ingress.enqueue import EnqueueFailed, JobQueue
from bot.ingress.idempotency import IdempotencyStore, run_once
from bot.ingress.metrics import (
    DUPLICATE_EVENTS,
    ENQUEUE_FAILURES,
    EVENTS_RECEIVED,
    EVENTS_REFUSED,
    count,
)
from bot.job import ASSISTANT
from bot.observability import correlated, service_logger
from bot.questions import length_problem
from bot.slack.config import Admission, SlackConfig
from bot.slack.notices import NOT_ALLOWED, NOT_QUEUED, too_long, usage_hint, working_on_it
from bot.slack.questions import (
    SlackQuestion,
    bot_user_id,
    greeting_from_event,
    question_from_command,
    question_from_event,
    viewed_context,
)

logger = service_logger()

RETRY_NUM_HEADER = "x-slack-retry-num"
RETRY_REASON_HEADER = "x-slack-retry-reason"


class SlackIntake:
    def __init__(
        self,
        slack: SlackConfig,
        max_question_chars: int,
        queue: JobQueue,
        idempotency: IdempotencyStore,
        thread_contexts: AssistantThreadContextStore,
    ) -> None:
        self._slack = slack
        self._max_question_chars = max_question_chars
        self._queue = queue
        self._idempotency = idempotency
        self._thread_contexts = thread_contexts

    def register(self, app: App) -> None:
        # Slack's assistant container, through Bolt's Assistant middleware (it runs before
        # the listeners below and takes the assistant threads' events and messages); each
        # thread's context is kept in `thread_contexts`, not Bolt's Web API default.
        assistant = Assistant(thread_context_store=self._thread_contexts)
        assistant.thread_started(self.on_thread_started)
        assistant.thread_context_changed(self.on_context_changed)
        assistant.user_message(self.on_assistant_message)
        app.use(assistant)
        app.event("app_mention")(self.on_event)
        app.event("message")(self.on_event)
        app.command(self._slack.slash_command)(self.on_command)
        # Everything else Slack sends (other events, button clicks) is acknowledged, so
        # Slack does not retry it or flag the app as failing.
        app.event(re.compile(".*"))(acknowledge)
        app.action(re.compile(".*"))(acknowledge)

    def on_event(
        self, body: dict[str, Any], ack: Ack, client: WebClient, request: BoltRequest
    ) -> None:
        ack()
        # An event's job id is its event_id: the worker's lines for it carry the same id.
        with correlated(logger, body.get("event_id")):
            self._take_event(body, client, request)

    def on_assistant_message(
        self,
        body: dict[str, Any],
        ack: Ack,
        client: WebClient,
        request: BoltRequest,
        get_thread_context: GetThreadContext,
    ) -> None:
        """A question in an assistant thread: a job like a DM's, answered with the
        thread's status line instead of a placeholder, and carrying the thread's context."""
        ack()
        with correlated(logger, body.get("event_id")):
            self._take_event(body, client, request, surface=ASSISTANT,
                             thread_context=get_thread_context)

    def on_thread_started(
        self, body: dict[str, Any], ack: Ack, save_thread_context: SaveThreadContext
    ) -> None:
        """A new assistant thread: its context is saved for the questions asked in it, and
        the worker greets it (the ack waits for no Slack call)."""
        ack()
        with correlated(logger, body.get("event_id")):
            save_thread_context(_event_context(body))
            self._take_greeting(body)

    def on_context_changed(
        self, body: dict[str, Any], ack: Ack, save_thread_context: SaveThreadContext
    ) -> None:
        """The person switched channels beside an assistant thread: its next questions
        carry the new context. A failed save answers 5xx, so Slack delivers it again."""
        ack()
        save_thread_context(_event_context(body))
        logger.info("event_id=<%s> | assistant thread context saved", body.get("event_id"))

    def _take_greeting(self, body: dict[str, Any]) -> None:
        question = greeting_from_event(body)
        if question is None or not question.key:
            logger.info("event_id=<%s> | ignored, no thread to greet", body.get("event_id"))
            return
        count(EVENTS_RECEIVED)
        admission = self._admission(question)
        if admission is not Admission.ADMITTED:
            # Nothing is posted: someone not allowed hears so when they ask.
            count(EVENTS_REFUSED)
            logger.info("job_id=<%s> | not greeted: %s", question.key, admission.value)
            return
        self._enqueue(question)
        logger.info("job_id=<%s> | greeting queued", question.key)

    def _take_event(
        self,
        body: dict[str, Any],
        client: WebClient,
        request: BoltRequest,
        surface: str | None = None,
        thread_context: Callable[[], Mapping[str, Any] | None] | None = None,
    ) -> None:
        question = question_from_event(body)
        if question is not None and surface is not None:
            question = replace(question, surface=surface)
        if question is None or not question.key:
            logger.info("event_id=<%s> | ignored, nothing to answer", body.get("event_id"))
            return
        # Counted once it is someone's message: DMs bring the bot's own posts and edits too.
        count(EVENTS_RECEIVED)
        retry = _first(request.headers.get(RETRY_NUM_HEADER))
        admission = self._admission(question)
        if admission is not Admission.ADMITTED:
            count(EVENTS_REFUSED)
        if admission is Admission.EXTERNAL:
            logger.info(
                "job_id=<%s>, asker_team=<%s>, team=<%s> | dropped: the asker is from another"
                " organisation and ALLOW_EXTERNAL_TEAMS is off",
                question.key,
                question.asker_team_id,
                question.team_id,
            )
            return
        notice = self._notice(question, admission, _how_to_ask(body))
        if notice is None:
            if thread_context is not None:
                question = replace(question, context=viewed_context(thread_context()))
            self._enqueue(question)
            logger.info(
                "job_id=<%s>, retry=<%s>, reason=<%s> | queued",
                question.key,
                retry,
                _first(request.headers.get(RETRY_REASON_HEADER)),
            )
            return
        posted = run_once(
            self._idempotency,
            question.key,
            lambda: client.chat_postEphemeral(
                channel=question.channel,
                user=question.user_id,
                text=notice,
                thread_ts=question.thread_ts,
            ),
        )
        if not posted:
            count(DUPLICATE_EVENTS)
        logger.info(
            "job_id=<%s>, retry=<%s> | not queued, notice posted=%s", question.key, retry, posted
        )

    def on_command(self, command: dict[str, Any], ack: Ack) -> None:
        count(EVENTS_RECEIVED)
        # A command's job id is its trigger_id.
        with correlated(logger, command.get("trigger_id")):
            self._take_command(command, ack)

    def _take_command(self, command: dict[str, Any], ack: Ack) -> None:
        question = question_from_command(command)
        admission = self._admission(question)
        if admission is not Admission.ADMITTED:
            count(EVENTS_REFUSED)
            logger.info(
                "job_id=<%s>, asker_team=<%s> | command refused: %s",
                question.key,
                question.asker_team_id,
                admission.value,
            )
        notice = self._notice(question, admission, self._slack.slash_command)
        if notice is not None or not question.key:
            ack(notice or NOT_QUEUED)
            return
        try:
            self._enqueue(question)
        except EnqueueFailed:
            # Slack never retries a slash command: tell the person instead of answering 5xx.
            logger.exception("job_id=<%s> | slash command not queued", question.key)
            ack(NOT_QUEUED)
            return
        logger.info("job_id=<%s> | command queued", question.key)
        ack(working_on_it(question.text))

    def _enqueue(self, question: SlackQuestion) -> None:
        """Queue the question's job. A second delivery of the same event is queued too: the
        worker's claim keeps the job's first message and drops the others (bot/job_store.py),
        so the ack path makes no idempotency write, and builds no DynamoDB client."""
        try:
            self._queue.send(question.to_job())
        except EnqueueFailed:
            count(ENQUEUE_FAILURES)
            raise

    def _notice(self, question: SlackQuestion, admission: Admission, how_to_ask: str) -> str | None:
        """What to tell the person instead of queueing a job, or None to queue it."""
        if admission is not Admission.ADMITTED:
            return NOT_ALLOWED
        if not question.text:
            return usage_hint(how_to_ask)
        problem = length_problem(question.text, self._max_question_chars)
        return too_long(problem) if problem else None

    def _admission(self, question: SlackQuestion) -> Admission:
        return self._slack.admits(
            team_id=question.team_id,
            asker_team_id=question.asker_team_id,
            home_team_ids=question.home_team_ids,
            channel=question.channel,
            user_id=question.user_id,
        )


def acknowledge(ack: Ack) -> None:
    ack()


def _event_context(body: dict[str, Any]) -> dict[str, str]:
    """The context an assistant thread event brings ({} when the person views no channel)."""
    thread = (body.get("event") or {}).get("assistant_thread") or {}
    return viewed_context(thread.get("context")) or {}


def _how_to_ask(body: dict[str, Any]) -> str:
    """How a usage hint's examples address the bot: by @mention in a channel, plainly in a DM."""
    if (body.get("event") or {}).get("type") != "app_mention":
        return ""
    own_id = bot_user_id(body)
    return f"<@{own_id}>" if own_id else "@databot"


def _first(values: Any) -> str | None:
    return values[0] if values else None
