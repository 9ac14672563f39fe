"""The Bolt app of the ingress Lambda: no network call at start-up, listeners in bot/listeners."""

from __future__ import annotations

from slack_bolt import App
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient

from bot.config import Env, require
from bot.feedback import Ballot, FeedbackConfig, open_ballot
from bot.ingress.config import IngressConfig
from bot.ingress.enqueue import JobQueue, SqsJobQueue
from bot.ingress.idempotency import DynamoDBIdempotency, IdempotencyStore
from bot.job_store import JobStore
from bot.slack.config import SlackConfig
from bot.slack.feedback import SlackFeedback
from bot.slack.listeners import SlackIntake
from bot.slack.review import SlackReview
from bot.slack.reviewers import Reviewers

BOLT_APP_NAME = "databot-slack"


def app_from_env(slack: SlackConfig, env: Env) -> App:
    """The Slack app on the queue, tables and feedback table `env` names."""
    ingress = IngressConfig.from_env(env)
    ballot = open_ballot(FeedbackConfig.from_env(env), ingress.jobs)
    jobs = JobStore(ingress.jobs.table) if ingress.jobs.table else None
    return create_app(slack, ingress, ballot=ballot, jobs=jobs)


def create_app(
    slack: SlackConfig,
    ingress: IngressConfig,
    *,
    queue: JobQueue | None = None,
    idempotency: IdempotencyStore | None = None,
    client: WebClient | None = None,
    ballot: Ballot | None = None,
    jobs: JobStore | None = None,
) -> App:
    """The Slack app. `queue` and `idempotency` default to SQS and DynamoDB from `ingress`;
    `client` defaults to a Web API client on `slack.api_url`; `ballot` is where votes on
    answers go (None: feedback clicks are only acknowledged); `jobs` is where the Verify
    modal reads answers (None: Verify and Retire clicks are only acknowledged).

    The app does not verify request signatures: callers must (SlackIngress does, before
    Bolt sees the request; Socket Mode requests come over the app's own websocket).
    """
    slack.require()
    if queue is None:
        require({"JOBS_QUEUE_URL": ingress.jobs.queue_url})
        queue = SqsJobQueue(str(ingress.jobs.queue_url))
    if idempotency is None:
        require({"IDEMPOTENCY_TABLE": ingress.idempotency_table})
        idempotency = DynamoDBIdempotency(
            str(ingress.idempotency_table),
            ttl_s=ingress.idempotency_ttl_s,
            in_progress_expiry_s=ingress.in_progress_expiry_s,
        )
    bot_token = slack.bot_token

    def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        # A single-workspace app: the token is known, so no auth.test call (Bolt would make
        # one on the first request even with token verification off). The bot's own user
        # id is read from each payload's `authorizations` by the listeners.
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=bot_token)

    app = App(
        # Without a name Bolt inspects the call stack, slowly. Bolt resets the level of the
        # logger named after the app to the root's (WARNING on Lambda), so the name must not
        # be the Powertools service's ("databot"), or every INFO line of the ingress is lost.
        name=BOLT_APP_NAME,
        client=client or WebClient(base_url=slack.api_url),
        authorize=authorize,
        process_before_response=True,
        token_verification_enabled=False,
        request_verification_enabled=False,  # verified once, by the caller
    )
    # Before the intake's acknowledge-everything listeners.
    if ballot is not None:
        SlackFeedback(slack, ballot).register(app)
    if jobs is not None:
        SlackReview(Reviewers(slack.reviewers), jobs, queue, idempotency).register(app)
    SlackIntake(slack, ingress.max_question_chars, queue, idempotency).register(app)
    return app
