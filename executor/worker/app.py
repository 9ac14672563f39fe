"""Assembling a worker from settings: queue, job store, memory, chat channels, engine."""

from __future__ import annotations

import argparse
import dataclasses
import importlib
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config as BotoConfig

from bot.config import ConfigError
from bot.delivery import Channels, open_channels
from bot.job_store import JobStore
from bot.observability import service_logger
from executor.artifacts import open_artifact_store
from executor.config import EngineConfig
from executor.conversations import ConversationStore
from executor.engine import Engine
from executor.verified.review import ReviewDesk, open_review_desk
from executor.worker.config import WorkerSettings
from executor.worker.metrics import WorkerMetrics
from executor.worker.queue import SqsQueue
from executor.worker.runner import JobRunner
from executor.worker.service import Worker
from executor.worker.warmup import warm_up_modules

logger = service_logger()

EngineFactory = Callable[[EngineConfig], Engine]


def load_engine_factory(spec: str) -> EngineFactory:
    """`module:function`, a callable taking an EngineConfig and returning an Engine."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ConfigError(f"engine factory must look like module:function, got {spec!r}")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as e:
        raise ConfigError(f"cannot load engine factory {spec!r}: {e}") from e
    if not callable(factory):
        raise ConfigError(f"engine factory {spec!r} is not callable")
    return factory


def with_options(settings: WorkerSettings, args: argparse.Namespace,
                 **overrides: Any) -> WorkerSettings:
    """The settings with the command's options in place of the environment's. Raises
    ConfigError, whose message names the problem."""
    chosen = {"concurrency": args.concurrency, **overrides}
    return dataclasses.replace(settings, worker=dataclasses.replace(
        settings.worker, **{k: v for k, v in chosen.items() if v is not None}
    ))


def configure_worker(settings: WorkerSettings, engine_factory: str) -> Worker:
    """The worker the settings describe, on the engine `engine_factory` (module:function)
    builds, with the job paths' modules loaded: its first job runs as fast as the next.
    Raises ConfigError, whose message names the problem, or the warehouse's error."""
    # Before the engine loads: a Slack secret without a token fails the start at once.
    channels = open_channels(settings.channels)
    warm_up_modules()
    engine = load_engine_factory(engine_factory)(settings.engine)
    return build_worker(settings, engine, channels=channels)


def build_worker(
    settings: WorkerSettings,
    engine: Engine,
    *,
    channels: Channels | None = None,
    reviews: ReviewDesk | None = None,
) -> Worker:
    """A worker on the configured queue and tables, replying through `channels` and
    carrying out review jobs at `reviews` (by default the configured ones);
    AWS_ENDPOINT_URL is honoured as boto3 honours it."""
    settings.jobs.require()
    config = settings.worker
    session = boto3.Session(region_name=settings.engine.region)
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
        JobStore(str(settings.jobs.table), ttl_days=settings.jobs.ttl_days, client=dynamodb),
        config=config,
        metrics=WorkerMetrics(
            config.metrics_namespace,
            primary_model=settings.engine.model.model_ids[0]
            if settings.engine.model.model_ids
            else None,
        ),
        channels=channels or open_channels(settings.channels),
        conversations=conversations,
        artifacts=open_artifact_store(settings.engine.artifacts),
        reviews=reviews or open_review_desk(settings.engine),
    )
    jobs_queue = SqsQueue(str(settings.jobs.queue_url), client=session.client("sqs", config=pooled))
    return Worker(jobs_queue, runner, config)
