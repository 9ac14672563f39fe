"""The ingress Lambdas against moto in-process (SQS + DynamoDB) and the Slack stand-in.

`ingress_aws` (per test module): `mock_aws` with a region set and one SQS and one DynamoDB
client, shared by the module's tests (building clients is the slow part).
`ingress_stack` (per test): a fresh jobs queue, idempotency, jobs and feedback tables, and
settings pointing at them and at a Slack Web API stand-in (tests/support/slack_api.py).
`ingress_stack.slack()` builds the Slack handler's request path, `ingress_stack.prompt_api()`
the prompt API's, `ingress_stack.teams(metadata_url)` the Teams front door's.
`ingress_logs` (per test): the log records the ingress writes during the test.
`lambda_env` (per test): the Lambda entry points as Lambda runs them, built from
`ingress_stack.env` on their first call, as in a new container.
`feedback_store` (per test): FEEDBACK_TABLE alone in `mock_aws`, its name in the env.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields, replace
from typing import Any

import boto3
import pytest
from moto import mock_aws
from slack_bolt.context.assistant.thread_context_store.store import AssistantThreadContextStore

from bot.api.prompt_api import PromptApi
from bot.feedback import Ballot, FeedbackConfig, FeedbackStore
from bot.ingress.config import IngressConfig
from bot.ingress.enqueue import JobQueue, SqsJobQueue
from bot.ingress.idempotency import DynamoDBIdempotency, IdempotencyStore
from bot.job import Job
from bot.job_store import JobsConfig, JobStore
from bot.slack.app import create_app
from bot.slack.config import SlackConfig
from bot.slack.ingress import SlackIngress
from bot.slack.replier import web_client
from bot.slack.thread_context import DynamoDBThreadContexts
from bot.teams.auth import SigningKeys, TokenValidator
from bot.teams.config import TeamsConfig
from bot.teams.ingress import TeamsIngress
from executor.engine import Engine
from executor.worker.config import WorkerConfig
from executor.worker.metrics import WorkerMetrics
from executor.worker.queue import QueueMessage, SqsQueue
from executor.worker.runner import JobRunner
from handlers import prompt_api, slack_events, teams_messages
from tests.support.events import LambdaContext
from tests.support.local_aws import LOCAL_CREDENTIALS
from tests.support.logs import listening
from tests.support.signing import SIGNING_SECRET
from tests.support.slack_api import SlackApiStandIn
from tests.support.worker import slack_channels

# What no front door's cold start imports: the worker's libraries, and boto3 (its resource
# layer and s3transfer; the front doors build their clients from botocore alone).
HEAVY_MODULES = ("pandas", "numpy", "matplotlib", "duckdb", "redshift_connector", "sklearn",
                 "boto3", "s3transfer")


class SerialWrites:
    """A DynamoDB client whose writes run one at a time. DynamoDB applies a conditional
    write atomically; moto's in-process backend checks the condition and writes in two
    steps, so two threads could both pass it. The lock restores DynamoDB's guarantee, so
    a concurrency test fails only for the product's own races."""

    WRITES = frozenset({"put_item", "update_item", "delete_item", "transact_write_items"})

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name not in self.WRITES:
            return attribute

        def serialised(**kwargs: Any) -> Any:
            with self._lock:
                return attribute(**kwargs)

        return serialised


@dataclass(frozen=True)
class AwsClients:
    sqs: Any
    dynamodb: Any


@dataclass
class IngressStack:
    slack_config: SlackConfig
    ingress: IngressConfig
    feedback: FeedbackConfig
    aws: AwsClients
    slack_api: SlackApiStandIn

    def slack(
        self,
        *,
        queue: JobQueue | None = None,
        idempotency: IdempotencyStore | None = None,
        thread_contexts: AssistantThreadContextStore | None = None,
        **settings: Any,
    ) -> SlackHandler:
        """The Slack request path on these resources; keyword arguments override fields of
        the Slack or the ingress config."""
        slack = replace(self.slack_config, **_fields_of(SlackConfig, settings))
        configured = replace(self.ingress, **_fields_of(IngressConfig, settings))
        app = create_app(
            slack,
            configured,
            queue=queue or SqsJobQueue(str(configured.jobs.queue_url), client=self.aws.sqs),
            idempotency=idempotency
            or DynamoDBIdempotency(
                str(configured.idempotency_table),
                ttl_s=configured.idempotency_ttl_s,
                in_progress_expiry_s=configured.in_progress_expiry_s,
                client=self.aws.dynamodb,
            ),
            ballot=Ballot(self.feedback_store(), self.job_store()),
            thread_contexts=thread_contexts or self.thread_contexts(),
            jobs=self.job_store(),
        )
        return SlackHandler(SlackIngress(app, SIGNING_SECRET))

    def prompt_api(
        self,
        *,
        queue: JobQueue | None = None,
        jobs: JobStore | None = None,
        new_job_id: Callable[[], str] | None = None,
        **settings: Any,
    ) -> PromptApi:
        """The prompt API on these resources; keyword arguments override the ingress config."""
        configured = replace(self.ingress, **settings)
        return PromptApi(
            configured,
            queue=queue or SqsJobQueue(str(configured.jobs.queue_url), client=self.aws.sqs),
            jobs=jobs or self.job_store(),
            **({"new_job_id": new_job_id} if new_job_id else {}),
        )

    def teams(self, metadata_url: str, *, app_id: str, **settings: Any) -> TeamsIngress:
        """The Teams front door on these resources, its keys from `metadata_url`; keyword
        arguments are fields of the Teams config."""
        teams = TeamsConfig(app_id=app_id, openid_metadata_url=metadata_url, **settings)
        return TeamsIngress(
            teams,
            self.ingress,
            validator=TokenValidator(app_id, SigningKeys(metadata_url)),
            queue=SqsJobQueue(str(self.ingress.jobs.queue_url), client=self.aws.sqs),
            idempotency=DynamoDBIdempotency(str(self.ingress.idempotency_table),
                                            client=self.aws.dynamodb),
            ballot=Ballot(self.feedback_store(), self.job_store()),
            jobs=self.job_store(),
        )

    def job_store(self, table: str | None = None) -> JobStore:
        return JobStore(table or str(self.ingress.jobs.table), client=self.aws.dynamodb)

    def thread_contexts(self) -> DynamoDBThreadContexts:
        """The assistant threads' contexts, in the idempotency table."""
        return DynamoDBThreadContexts(str(self.ingress.idempotency_table),
                                      client=self.aws.dynamodb)

    def feedback_store(self) -> FeedbackStore:
        return self.feedback.store(client=self.aws.dynamodb)

    def runner(self, engine: Engine, **options: Any) -> JobRunner:
        """The worker's job runner on this stack's tables and Slack stand-in."""
        return JobRunner(
            engine, self.job_store(), config=WorkerConfig(progress_interval_s=0.0),
            metrics=WorkerMetrics(None),
            channels=slack_channels(web_client(self.slack_api.token, self.slack_api.url)),
            **options,
        )

    def queued_messages(self) -> list[QueueMessage]:
        """Every message on the queue, as the worker receives them (each left in flight, so
        each is read once)."""
        queue = SqsQueue(str(self.ingress.jobs.queue_url), client=self.aws.sqs)
        messages: list[QueueMessage] = []
        while batch := queue.receive(10, 0):
            messages += batch
        return messages

    def queued_jobs(self) -> list[Job]:
        """Every job on the queue (each message read once)."""
        return [Job.from_json(message.body) for message in self.queued_messages()]

    @property
    def env(self) -> dict[str, str]:
        """The environment the ingress Lambdas would run with on these resources."""
        return {
            **LOCAL_CREDENTIALS,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_BOT_TOKEN": self.slack_api.token,
            "SLACK_API_URL": self.slack_api.url,
            "JOBS_QUEUE_URL": str(self.ingress.jobs.queue_url),
            "IDEMPOTENCY_TABLE": str(self.ingress.idempotency_table),
            "JOBS_TABLE": str(self.ingress.jobs.table),
            "FEEDBACK_TABLE": str(self.feedback.table),
        }


def _fields_of(config: type, overrides: dict[str, Any]) -> dict[str, Any]:
    """The overrides that name fields of the dataclass `config`."""
    names = {f.name for f in fields(config)}
    known = {f.name for config in (SlackConfig, IngressConfig) for f in fields(config)}
    unknown = set(overrides) - known
    assert not unknown, f"no such setting: {', '.join(sorted(unknown))}"
    return {name: value for name, value in overrides.items() if name in names}


@dataclass
class SlackHandler:
    ingress: SlackIngress

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        return self.ingress.handle(event, LambdaContext())


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def ingress_logs() -> Iterator[list[logging.LogRecord]]:
    """The records of the ingress's Powertools logger in this test."""
    handler = _Records()
    with listening(handler):
        yield handler.records


@pytest.fixture
def fresh_handlers() -> Iterator[None]:
    """Each test is a new container: the cached app and API are built again."""
    slack_events._ingress.cache_clear()
    prompt_api._api.cache_clear()
    teams_messages._ingress.cache_clear()
    yield
    slack_events._ingress.cache_clear()
    prompt_api._api.cache_clear()
    teams_messages._ingress.cache_clear()


@pytest.fixture
def lambda_env(
    ingress_stack: IngressStack, fresh_handlers: None, monkeypatch: pytest.MonkeyPatch
) -> IngressStack:
    for name, value in ingress_stack.env.items():
        monkeypatch.setenv(name, value)
    return ingress_stack


@pytest.fixture(scope="module")
def ingress_aws() -> Iterator[AwsClients]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in LOCAL_CREDENTIALS.items():
            patch.setenv(name, value)
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        with mock_aws():
            yield AwsClients(
                sqs=boto3.client("sqs"), dynamodb=SerialWrites(boto3.client("dynamodb"))
            )


@pytest.fixture(scope="module")
def ingress_slack_api() -> Iterator[SlackApiStandIn]:
    """One Slack stand-in per module (stopping one takes half a second), reset per test."""
    stand_in = SlackApiStandIn().start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def ingress_stack(ingress_aws: AwsClients, ingress_slack_api: SlackApiStandIn) -> IngressStack:
    slack_api = ingress_slack_api
    slack_api.reset()
    suffix = uuid.uuid4().hex[:8]
    queue_url = ingress_aws.sqs.create_queue(QueueName=f"databot-jobs-{suffix}")["QueueUrl"]
    for table, key in (
        (f"databot-idempotency-{suffix}", "id"),
        (f"databot-jobs-{suffix}", "job_id"),
    ):
        ingress_aws.dynamodb.create_table(
            TableName=table,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        )
    create_feedback_table(ingress_aws.dynamodb, f"databot-feedback-{suffix}")
    slack = SlackConfig(
        signing_secret=SIGNING_SECRET, bot_token=slack_api.token, api_url=slack_api.url
    )
    ingress = IngressConfig(
        jobs=JobsConfig(queue_url=queue_url, table=f"databot-jobs-{suffix}"),
        idempotency_table=f"databot-idempotency-{suffix}",
    )
    return IngressStack(slack_config=slack, ingress=ingress,
                        feedback=FeedbackConfig(table=f"databot-feedback-{suffix}"),
                        aws=ingress_aws, slack_api=slack_api)


def create_feedback_table(dynamodb: Any, name: str) -> None:
    """FEEDBACK_TABLE as template.yaml declares it: one item per job and voter."""
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "job_id", "AttributeType": "S"},
                              {"AttributeName": "user_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "job_id", "KeyType": "HASH"},
                   {"AttributeName": "user_id", "KeyType": "RANGE"}],
    )


FEEDBACK_TABLE = "databot-feedback"


@pytest.fixture
def feedback_store(monkeypatch: pytest.MonkeyPatch) -> Iterator[FeedbackStore]:
    for name, value in LOCAL_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("FEEDBACK_TABLE", FEEDBACK_TABLE)
    with mock_aws():
        client = boto3.client("dynamodb")
        create_feedback_table(client, FEEDBACK_TABLE)
        yield FeedbackStore(FEEDBACK_TABLE, client=client)
