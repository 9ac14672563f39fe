"""The front doors' EMF metrics: what is counted, and that each handler flushes them once
per invocation as one line on stdout (no network call)."""

from __future__ import annotations

import pytest

from bot.ingress.enqueue import EnqueueFailed
from bot.ingress.metrics import (
    ENQUEUE_FAILURES,
    EVENTS_RECEIVED,
    EVENTS_REFUSED,
    metrics,
)
from bot.job import Job
from handlers import prompt_api, slack_events
from tests.support.events import LambdaContext, load_event
from tests.support.ingress import IngressStack
from tests.support.metrics import Emitted, counts, flushed
from tests.support.signing import SignedEvent


class DownQueue:
    def send(self, job: Job) -> None:
        raise EnqueueFailed("SQS is unavailable")


def test_the_slack_handler_flushes_each_invocations_counts_in_the_namespace(
    lambda_env: IngressStack, signed_event: SignedEvent, emitted: Emitted
) -> None:
    # WHEN Slack delivers a mention twice, in two invocations
    for _ in range(2):
        slack_events.handler(signed_event("app_mention"), LambdaContext())

    # THEN each invocation wrote its own EMF line, in the namespace, per service (both
    # queued the job: the worker drops the second message, and counts it)
    first, second = emitted()
    assert first["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "databot"
    assert first["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]
    assert counts([first]) == counts([second]) == {EVENTS_RECEIVED: 1}


def test_refusals_are_counted(
    ingress_stack: IngressStack, signed_event: SignedEvent, emitted: Emitted
) -> None:
    handler = ingress_stack.slack(allowed_channel_ids=frozenset({"C0OTHER"}))

    handler(signed_event("app_mention"))
    handler(signed_event("slash_command"))

    assert flushed(emitted) == {EVENTS_RECEIVED: 2, EVENTS_REFUSED: 2}


def test_enqueue_failures_are_counted_for_events_and_commands(
    ingress_stack: IngressStack, signed_event: SignedEvent, emitted: Emitted
) -> None:
    handler = ingress_stack.slack(queue=DownQueue())

    assert handler(signed_event("app_mention"))["statusCode"] >= 500
    handler(signed_event("slash_command"))

    assert flushed(emitted) == {EVENTS_RECEIVED: 2, ENQUEUE_FAILURES: 2}


def test_the_prompt_api_counts_prompts_and_failures_to_queue(
    ingress_stack: IngressStack, emitted: Emitted
) -> None:
    ingress_stack.prompt_api().handle(load_event("prompt_post"))
    ingress_stack.prompt_api(queue=DownQueue()).handle(load_event("prompt_post"))

    assert flushed(emitted) == {EVENTS_RECEIVED: 2, ENQUEUE_FAILURES: 1}


def test_the_prompt_handler_flushes_per_invocation(
    lambda_env: IngressStack, emitted: Emitted
) -> None:
    prompt_api.handler(load_event("prompt_post"), LambdaContext())

    assert counts(emitted()) == {EVENTS_RECEIVED: 1}


def test_without_a_namespace_nothing_is_counted(
    ingress_stack: IngressStack, signed_event: SignedEvent, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(metrics.provider, "namespace", None)

    ingress_stack.slack()(signed_event("app_mention"))

    assert metrics.provider.metric_set == {}


@pytest.mark.parametrize("name", ["message_bot", "message_changed"])
def test_the_bots_own_messages_are_not_counted(
    name: str, ingress_stack: IngressStack, signed_event: SignedEvent, emitted: Emitted
) -> None:
    # GIVEN a DM event Slack sends about the bot's own posts and edits
    ingress_stack.slack()(signed_event(name))

    assert flushed(emitted) == {}
