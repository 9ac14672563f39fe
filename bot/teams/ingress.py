"""The Teams front door's request path: authenticate, read the activity, queue its Job,
answer at once. The work happens in the worker.

- No valid Bot Framework token, a token for another service URL, another channel than
  Teams, or a tenant outside TEAMS_TENANT_IDS → 401, nothing done.
- A body that is not an activity → 400 (never 500: Bot Framework would retry it).
- A message in a personal or group chat, or a channel message that @mentions the bot →
  an answer Job, queued once per activity (a redelivery is acknowledged, not queued
  again). An empty or too long question queues a greeting Job carrying the notice, since
  only the worker holds the bot's credentials to post it.
- A personal install → one greeting Job; other installation and conversation updates,
  and every other activity type → 200, ignored.
- A card action (Action.Execute invoke or Action.Submit message): a vote is recorded in
  FEEDBACK_TABLE; Verify and Retire, for VERIFIED_REVIEWERS only, queue a review Job. An
  invoke gets the response Teams shows the presser (`invoke_response`).
- SQS, DynamoDB or the key endpoint failing → 503, so Bot Framework retries.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bot.config import Env, require
from bot.feedback import UP, Ballot, FeedbackConfig, open_ballot
from bot.ingress.config import IngressConfig
from bot.ingress.enqueue import EnqueueFailed, JobQueue, SqsJobQueue, enqueue_once
from bot.ingress.http_events import BadEvent, json_response, parse_http_event
from bot.ingress.idempotency import (
    DynamoDBIdempotency,
    IdempotencyStore,
    IdempotencyUnavailable,
)
from bot.ingress.metrics import (
    DUPLICATE_EVENTS,
    ENQUEUE_FAILURES,
    EVENTS_RECEIVED,
    EVENTS_REFUSED,
    FEEDBACK_DOWN,
    FEEDBACK_UP,
    count,
)
from bot.job import RETIRE, VERIFY, Job
from bot.job_store import JobStore
from bot.observability import correlated, service_logger
from bot.questions import length_problem
from bot.review import BadReview, Proposal, Review
from bot.teams.activities import (
    CHANNEL,
    FEEDBACK,
    INVOKE,
    MESSAGE,
    Activity,
    CardAction,
    MalformedActivity,
    parse_activity,
)
from bot.teams.auth import (
    KeysUnavailable,
    SigningKeys,
    TokenValidator,
    Unauthorized,
    check_service_url,
)
from bot.teams.config import CHANNEL_ID, TeamsConfig

logger = service_logger()

THANKS = "Thanks for your feedback: it helps databot get better."
HOW_TO_ASK = "Ask me a question about your data, for example: how many users signed up each month?"
REVIEWERS_ONLY = "Only reviewers can verify answers or retire verified entries."
GONE = "That answer is no longer on record, so it cannot be verified."
VERIFYING = "Verifying: the entry will be posted in this thread."
RETIRING = "Retiring the verified entry."
# Teams shows an adaptiveCard/action response of this type as a message to the presser.
MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"


def invoke_response(message: str) -> dict[str, Any]:
    """The body an `adaptiveCard/action` invoke is answered with."""
    return {"statusCode": 200, "type": MESSAGE_RESPONSE, "value": message}


class TeamsIngress:
    def __init__(
        self,
        teams: TeamsConfig,
        ingress: IngressConfig,
        *,
        validator: TokenValidator,
        queue: JobQueue,
        idempotency: IdempotencyStore,
        ballot: Ballot | None = None,
        jobs: JobStore | None = None,
    ) -> None:
        self._teams = teams
        self._ingress = ingress
        self._validator = validator
        self._queue = queue
        self._idempotency = idempotency
        self._ballot = ballot
        self._jobs = jobs

    @classmethod
    def from_env(cls, env: Env) -> TeamsIngress:
        """The front door the environment describes: the Teams Lambda's one settings read.
        No network call: the signing keys are fetched by the first request."""
        teams = TeamsConfig.from_env(env)
        teams.require()
        ingress = IngressConfig.from_env(env)
        require({"JOBS_QUEUE_URL": ingress.jobs.queue_url,
                 "IDEMPOTENCY_TABLE": ingress.idempotency_table})
        return cls(
            teams,
            ingress,
            validator=TokenValidator(str(teams.app_id), SigningKeys(teams.openid_metadata_url)),
            queue=SqsJobQueue(str(ingress.jobs.queue_url)),
            idempotency=DynamoDBIdempotency(
                str(ingress.idempotency_table),
                ttl_s=ingress.idempotency_ttl_s,
                in_progress_expiry_s=ingress.in_progress_expiry_s,
            ),
            ballot=open_ballot(FeedbackConfig.from_env(env), ingress.jobs),
            jobs=JobStore(ingress.jobs.table) if ingress.jobs.table else None,
        )

    def handle(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        """Answer one API Gateway (HTTP API, payload 2.0) or Function URL event."""
        try:
            request = parse_http_event(event)
        except BadEvent as e:
            logger.warning("rejected a request whose body cannot be decoded: %s", e)
            return json_response(400, {"error": "request body is not an activity"})
        if request.method != "POST":
            return json_response(405, {"error": "Bot Framework activities are POSTs"})
        try:
            claims = self._validator.claims(request.header("authorization"))
        except Unauthorized as e:
            logger.warning("rejected a request: %s", e)
            return _unauthorized()
        except KeysUnavailable as e:
            logger.error("Bot Framework's signing keys are unavailable: %s", e)
            return json_response(503, {"error": "try again later"})
        try:
            activity = parse_activity(json.loads(request.text()))
        except (BadEvent, ValueError, RecursionError) as e:  # MalformedActivity, bad JSON
            logger.warning("rejected an authenticated request that is not an activity: %s, "
                           "bytes=<%s>", e, request.body_bytes)
            return json_response(400, {"error": "request body is not an activity"})
        try:
            check_service_url(claims, activity.service_url)
        except Unauthorized as e:
            logger.warning("rejected a request: %s", e)
            return _unauthorized()
        if activity.channel_id != CHANNEL_ID or not self._teams.admits_tenant(
                activity.tenant_id):
            count(EVENTS_REFUSED)
            logger.warning("rejected an activity from channel=<%s>, tenant=<%s>",
                           activity.channel_id, activity.tenant_id)
            return _unauthorized()
        try:
            return self._take(activity)
        except MalformedActivity as e:
            logger.warning("rejected a malformed %s activity: %s", activity.type, e)
            return json_response(400, {"error": str(e)})
        except (EnqueueFailed, IdempotencyUnavailable, ClientError, BotoCoreError) as e:
            count(ENQUEUE_FAILURES)
            logger.exception("activity not taken, Bot Framework will retry: %s", e)
            return json_response(503, {"error": "try again later"})

    def _take(self, activity: Activity) -> dict[str, Any]:
        action = activity.card_action
        if action is not None:
            with correlated(logger, action.job_id):
                message = self._take_card_action(activity, action)
            return json_response(200, invoke_response(message) if activity.type == INVOKE else {})
        if activity.type == MESSAGE:
            with correlated(logger, activity.key):
                self._take_message(activity)
        elif activity.adds_bot_to_personal_chat:
            self._queue_once(activity.greeting(), "greeting")
        else:
            logger.info("acknowledged a %s activity, nothing to do", activity.type)
        return json_response(200, {})

    def _take_message(self, activity: Activity) -> None:
        if activity.conversation_type == CHANNEL and not activity.mentions_bot:
            logger.info("ignored a channel message that does not mention the bot")
            return
        count(EVENTS_RECEIVED)
        question = activity.question()
        problem = length_problem(question, self._ingress.max_question_chars)
        if not question or problem:
            notice = f"Sorry, {problem}." if problem else HOW_TO_ASK
            self._queue_once(activity.greeting(notice), "notice")
            return
        self._queue_once(activity.job(text=question), "question")

    def _take_card_action(self, activity: Activity, action: CardAction) -> str:
        if action.action == FEEDBACK:
            if self._ballot is not None:
                self._ballot.cast(job_id=action.job_id, user_id=activity.user_id,
                                  value=str(action.value), team_id=activity.tenant_id)
                count(FEEDBACK_UP if action.value == UP else FEEDBACK_DOWN)
                logger.info("user=<%s> | vote %s recorded", activity.user_id, action.value)
            return THANKS
        if not {activity.user_id, activity.teams_user_id} & self._teams.reviewers:
            logger.info("user=<%s> | %s refused: not a reviewer", activity.user_id,
                        action.action)
            return REVIEWERS_ONLY
        if action.action == VERIFY:
            proposal = self._proposal(action.job_id)
            if proposal is None:
                return GONE
            review = Review(action.job_id, activity.user_id, proposal=proposal)
            self._queue_once(activity.job(kind=VERIFY, review=review), "verify")
            return VERIFYING
        review = Review(action.job_id, activity.user_id, entry_id=action.entry_id)
        self._queue_once(activity.job(kind=RETIRE, review=review), "retire")
        return RETIRING

    def _proposal(self, job_id: str) -> Proposal | None:
        """The entry to verify: the answer's own proposal, else the plainest one made of its
        question and SQL. None when the answer is not on record."""
        record = self._jobs.get(job_id) if self._jobs is not None else None
        if record is None or not record.answer:
            return None
        try:
            return Proposal.from_dict(record.answer["proposal"])
        except (KeyError, BadReview):
            return Proposal.default(record.question, list(record.answer.get("sql") or []))

    def _queue_once(self, job: Job, what: str) -> None:
        queued = enqueue_once(job, self._queue, self._idempotency)
        if not queued:
            count(DUPLICATE_EVENTS)
        logger.info("job_id=<%s> | %s %s", job.job_id, what,
                    "queued" if queued else "duplicate delivery, already queued")


def _unauthorized() -> dict[str, Any]:
    return json_response(401, {"error": "unauthorized"})
