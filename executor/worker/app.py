"""Assembling a worker from settings: queue, job store, memory, chat channels, engine."""

from __future__ import annotations

import argparse
import dataclasses
import importlib
from collections.abc import Callable
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config as BotoConfig

from bot.delivery import open_channels
from bot.job_store import JobStore
from bot.settings import fetch_slack_secret
from executor.artifacts import open_artifact_store
from executor.conversations import ConversationStore
from executor.engine import Engine
from executor.settings import Settings
from executor.worker.config import WorkerConfig
from executor.worker.metrics import WorkerMetrics
from executor.worker.queue import SqsQueue
from executor.worker.runner import JobRunner
from executor.worker.service import Worker

logger = Logger(service="databot")

EngineFactory = Callable[[Settings], Engine]


class WorkerSetupError(ValueError):
    """The worker cannot start: a setting is missing or an engine factory is not found."""


def load_engine_factory(spec: str) -> EngineFactory:
    """`module:function`, a callable taking Settings and returning an Engine."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise WorkerSetupError(f"engine factory must look like module:function, got {spec!r}")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as e:
        raise WorkerSetupError(f"cannot load engine factory {spec!r}: {e}") from e
    if not callable(factory):
        raise WorkerSetupError(f"engine factory {spec!r} is not callable")
    return factory


def slack_token(settings: Settings) -> str | None:
    """SLACK_BOT_TOKEN, or the token in the Secrets Manager secret SLACK_SECRET_ARN."""
    if settings.slack_bot_token:
        return settings.slack_bot_token
    if not settings.slack_secret_arn:
        return None
    token = fetch_slack_secret(settings.slack_secret_arn).get("SLACK_BOT_TOKEN")
    if not token:
        raise WorkerSetupError(f"secret {settings.slack_secret_arn} has no SLACK_BOT_TOKEN")
    return token


def worker_from_env(args: argparse.Namespace, token: str | None, **overrides: Any) -> Worker:
    """The worker the environment and the command's options describe. Raises ConfigError
    or WorkerSetupError, whose messages name the problem."""
    settings = Settings.from_env()
    chosen = {"concurrency": args.concurrency, **overrides}
    config = dataclasses.replace(
        WorkerConfig.from_env(), **{k: v for k, v in chosen.items() if v is not None}
    )
    engine = load_engine_factory(args.engine)(settings)
    return build_worker(settings, config, engine, token=token)


def build_worker(
    settings: Settings,
    config: WorkerConfig,
    engine: Engine,
    *,
    token: str | None = None,
) -> Worker:
    """A worker on the configured queue and tables; AWS_ENDPOINT_URL is honoured as boto3
    honours it. Without `token` only API jobs can be answered."""
    missing = [
        name
        for name, value in (("JOBS_QUEUE_URL", settings.jobs_queue_url),
                            ("JOBS_TABLE", settings.jobs_table))
        if not value
    ]
    if missing:
        raise WorkerSetupError(f"missing settings: {', '.join(missing)}")
    if not token:
        logger.warning("no Slack token (SLACK_BOT_TOKEN or SLACK_SECRET_ARN): only API jobs "
                       "can be answered; Slack jobs will be recorded failed")
    session = boto3.Session(region_name=settings.aws_region)
    # Every job thread shares these clients: a connection each, or botocore's pool of 10
    # would reconnect (a TLS handshake on AWS) on most calls.
    pooled = BotoConfig(max_pool_connections=config.max_in_flight + 2)
    dynamodb = session.client("dynamodb", config=pooled)
    conversations = (
        ConversationStore(
            settings.conversations_table,
            client=dynamodb,
            ttl_s=config.conversation_ttl_days * 86400,
            token_budget=config.history_token_budget,
        )
        if settings.conversations_table
        else None
    )
    runner = JobRunner(
        engine,
        JobStore(str(settings.jobs_table), ttl_days=config.job_ttl_days, client=dynamodb),
        config=config,
        metrics=WorkerMetrics(
            config.metrics_namespace,
            primary_model=settings.model_ids[0] if settings.model_ids else None,
        ),
        channels=open_channels(slack_token=token, slack_api_url=settings.slack_api_url),
        conversations=conversations,
        artifacts=open_artifact_store(settings),
    )
    jobs_queue = SqsQueue(str(settings.jobs_queue_url), client=session.client("sqs", config=pooled))
    return Worker(jobs_queue, runner, config)
