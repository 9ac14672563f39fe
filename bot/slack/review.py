"""Verify and Retire in the thread: what the ingress does when a reviewer presses either.

Only reviewers (`VERIFIED_REVIEWERS`, bot/slack/reviewers.py) may: anyone else gets an
ephemeral "Only reviewers can …", to them alone, and nothing changes.

Verify (`verify_answer`) opens the Verify modal (bot/slack/review_modal.py), prefilled from
the answer's record in JOBS_TABLE. views.open must use the click's trigger_id within
Slack's three seconds: before it come only the reviewer check (no call for a listed user,
a cached usergroups.users.list per group otherwise) and one DynamoDB read. Submitting the
modal queues a `verify` job (job id `verify-<view id>`, queued once however often Slack
delivers the submission) and closes the modal; the worker checks and stores the entry and
says so in the answer's thread.

Retire (`retire_verified`, behind Slack's confirmation dialog) queues a `retire` job (job id
`retire-<trigger_id>`) for the entry the button names.

Both jobs reply in the answer's thread: its team, channel and thread, kept in the Slack
assistant container when the answer was there. The shape of each payload is checked
before Bolt sees it (`check_review_payload`, from bot/slack/payloads.py): a malformed one
is a 400.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.ingress.enqueue import EnqueueFailed, JobQueue, enqueue_once
from bot.ingress.idempotency import IdempotencyStore, IdempotencyUnavailable
from bot.ingress.metrics import DUPLICATE_EVENTS, ENQUEUE_FAILURES, count
from bot.job import ASSISTANT, RETIRE, VERIFY, Job
from bot.job_store import JobRecord, JobStore
from bot.observability import correlated, service_logger
from bot.review import BadReview, Proposal, Review
from bot.slack.questions import SlackQuestion, channel_of, team_of
from bot.slack.review_buttons import (
    RETIRE_ACTION,
    VERIFY_ACTION,
    BadReviewPayload,
    retire_value,
    verify_value,
)
from bot.slack.review_modal import (
    QUESTION,
    VERIFY_VIEW,
    ReviewAsked,
    fits_the_modal,
    proposal_from,
    submitted_values,
    verify_view,
)
from bot.slack.reviewers import Reviewers

logger = service_logger()

NOT_A_REVIEWER = "Only reviewers can verify answers."
NOT_A_RETIRER = "Only reviewers can retire verified answers."
CANNOT_VERIFY = ("This answer can't be verified here: its record is gone, it ran no SQL, "
                 "or its SQL is too long for the form.")
NOT_TAKEN = "databot couldn't take this just now. Please try again in a minute."


def check_review_payload(payload: Mapping[str, Any], kind: str) -> None:
    """Raise BadReviewPayload when a Verify or Retire click, or a Verify submission, could
    not be read."""
    if kind == "block_actions":
        action = payload["actions"][0]
        if action.get("action_id") == VERIFY_ACTION:
            verify_value(action.get("value"))
        elif action.get("action_id") == RETIRE_ACTION:
            retire_value(action.get("value"))
        else:
            return
        if not all((_user(payload), channel_of(payload), _team(payload),
                    payload.get("trigger_id"), _thread(payload))):
            raise BadReviewPayload("a review click names no user, team, channel, thread or "
                                   "trigger")
    elif kind == "view_submission" and payload["view"].get("callback_id") == VERIFY_VIEW:
        ReviewAsked.parse(payload["view"].get("private_metadata"))
        submitted_values(payload["view"])
        if not _user(payload) or not payload["view"].get("id"):
            raise BadReviewPayload("a Verify submission names no user or view")


class SlackReview:
    """The listeners for the Verify and Retire buttons and the Verify modal."""

    def __init__(self, reviewers: Reviewers, jobs: JobStore, queue: JobQueue,
                 idempotency: IdempotencyStore) -> None:
        self._reviewers = reviewers
        self._jobs = jobs
        self._queue = queue
        self._idempotency = idempotency

    def register(self, app: App) -> None:
        app.action(VERIFY_ACTION)(self.on_verify)
        app.action(RETIRE_ACTION)(self.on_retire)
        app.view(VERIFY_VIEW)(self.on_submit)

    def on_verify(self, body: dict[str, Any], ack: Ack, client: WebClient) -> None:
        job_id = verify_value(body["actions"][0]["value"])
        user = _user(body)
        with correlated(logger, job_id):
            if not self._reviewers.include(user, client):
                ack()
                _tell(client, user, _clicked(body, job_id), NOT_A_REVIEWER)
                return
            record = self._jobs.get(job_id)
            asked = _clicked(body, job_id, record)
            proposal = _proposal(record)
            if proposal is None or not fits_the_modal(proposal):
                ack()
                _tell(client, user, asked, CANNOT_VERIFY)
                return
            try:
                client.views_open(trigger_id=body["trigger_id"], view=verify_view(proposal, asked))
                logger.info("job_id=<%s>, reviewer=<%s> | Verify modal opened", job_id, user)
            except SlackApiError as e:
                logger.warning("job_id=<%s> | Verify modal not opened: %s", job_id, e)
            ack()

    def on_submit(self, body: dict[str, Any], ack: Ack, client: WebClient) -> None:
        asked = ReviewAsked.parse(body["view"]["private_metadata"])
        values = submitted_values(body["view"])
        user = _user(body)
        with correlated(logger, asked.job_id):
            if not self._reviewers.include(user, client):
                ack()  # no longer a reviewer since the modal opened
                _tell(client, user, asked, NOT_A_REVIEWER)
                return
            proposal = proposal_from(values)
            if isinstance(proposal, dict):
                ack(response_action="errors", errors=proposal)
                return
            review = Review(asked.job_id, user, proposal=proposal)
            job = _review_job(VERIFY, f"verify-{body['view']['id']}", asked, review,
                              text=proposal.question)
            if self._enqueue(job):
                ack()  # closes the modal
            else:
                ack(response_action="errors", errors={QUESTION: NOT_TAKEN})

    def on_retire(self, body: dict[str, Any], ack: Ack, client: WebClient) -> None:
        entry_id, job_id = retire_value(body["actions"][0]["value"])
        user = _user(body)
        ack()
        with correlated(logger, job_id):
            if not self._reviewers.include(user, client):
                _tell(client, user, _clicked(body, job_id), NOT_A_RETIRER)
                return
            asked = _clicked(body, job_id, self._jobs.get(job_id))
            review = Review(job_id, user, entry_id=entry_id)
            job = _review_job(RETIRE, f"retire-{body['trigger_id']}", asked, review, text="")
            if not self._enqueue(job):
                _tell(client, user, asked, NOT_TAKEN)

    def _enqueue(self, job: Job) -> bool:
        """Queue `job` once; False when the queue or the idempotency table failed."""
        try:
            queued = enqueue_once(job, self._queue, self._idempotency)
        except (EnqueueFailed, IdempotencyUnavailable):
            count(ENQUEUE_FAILURES)
            logger.exception("job_id=<%s> | %s job not queued", job.job_id, job.kind)
            return False
        if not queued:
            count(DUPLICATE_EVENTS)
        logger.info("job_id=<%s>, reviewer=<%s> | %s job %s", job.job_id, job.user_id, job.kind,
                    "queued" if queued else "duplicate delivery, already queued")
        return True


def _proposal(record: JobRecord | None) -> Proposal | None:
    """The answer's proposal: the worker's, else the plainest one from its question and SQL;
    None when there is no answer with SQL to verify."""
    answer = (record.answer if record else None) or {}
    sql = [str(statement) for statement in answer.get("sql") or []]
    if record is None or not sql:
        return None
    if answer.get("proposal") is not None:
        try:
            return Proposal.from_dict(answer["proposal"])
        except BadReview as e:
            logger.warning("job_id=<%s> | the answer's proposal is unreadable: %s",
                           record.job_id, e)
    return Proposal.default(record.question, sql)


def _clicked(body: dict[str, Any], job_id: str, record: JobRecord | None = None) -> ReviewAsked:
    """The thread of the answer clicked on. It is in Slack's assistant container when it is
    a DM thread where the worker posted no placeholder (assistant threads show a status
    line instead)."""
    channel = channel_of(body)
    in_assistant = channel.startswith("D") and record is not None and record.placeholder is None
    return ReviewAsked(job_id=job_id, team_id=_team(body), channel=channel,
                       thread_ts=_thread(body), surface=ASSISTANT if in_assistant else None)


def _review_job(kind: str, job_id: str, asked: ReviewAsked, review: Review, *, text: str) -> Job:
    """A review job that replies in the answer's thread, in the answer's conversation."""
    job = SlackQuestion(key=job_id, team_id=asked.team_id, channel=asked.channel,
                        user_id=review.reviewer, text=text, thread_ts=asked.thread_ts,
                        surface=asked.surface, kind=kind).to_job()
    return replace(job, review=review)


def _tell(client: WebClient, user: str, asked: ReviewAsked, text: str) -> None:
    try:
        client.chat_postEphemeral(channel=asked.channel, user=user, text=text,
                                  thread_ts=asked.thread_ts)
    except SlackApiError as e:
        logger.warning("job_id=<%s> | refusal not posted: %s", asked.job_id, e)
    logger.info("job_id=<%s>, user=<%s> | review not taken: %s", asked.job_id, user, text)


def _team(body: Mapping[str, Any]) -> str:
    """The workspace the click came from; an org-wide install may name it on the user only."""
    return str(team_of(body) or (body.get("user") or {}).get("team_id") or "")


def _user(body: Mapping[str, Any]) -> str:
    return str((body.get("user") or {}).get("id") or "")


def _thread(body: Mapping[str, Any]) -> str:
    container = body.get("container") or {}
    return str(container.get("thread_ts") or container.get("message_ts") or "")
