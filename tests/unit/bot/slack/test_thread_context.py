"""The assistant threads' contexts in the idempotency table (moto), and in memory."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from bot.ingress.idempotency import DynamoDBIdempotency
from bot.slack.thread_context import (
    KEY_PREFIX,
    DynamoDBThreadContexts,
    LocalThreadContexts,
)
from tests.support.ingress import IngressStack

THREAD = {"channel_id": "D0001", "thread_ts": "1795284200.000100"}
VIEWING = {"channel_id": "C0REV", "team_id": "T0001", "enterprise_id": "E0001"}


class Clock:
    def __init__(self, now: float = 1_795_284_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def on_table(stack: IngressStack, clock: Clock, **kwargs: Any) -> DynamoDBThreadContexts:
    return DynamoDBThreadContexts(str(stack.ingress.idempotency_table),
                                  client=stack.aws.dynamodb, clock=clock, **kwargs)


@pytest.fixture(params=["dynamodb", "memory"])
def store(request: pytest.FixtureRequest, ingress_stack: IngressStack) -> Any:
    if request.param == "dynamodb":
        return on_table(ingress_stack, Clock())
    return LocalThreadContexts()


def test_a_saved_context_is_found_for_its_thread_only(store: Any) -> None:
    store.save(**THREAD, context=VIEWING)

    found = store.find(**THREAD)
    assert found == VIEWING
    assert (found.channel_id, found.team_id, found.enterprise_id) == ("C0REV", "T0001", "E0001")
    assert store.find(channel_id="D0001", thread_ts="1795284999.000100") is None
    assert store.find(channel_id="D0002", thread_ts=THREAD["thread_ts"]) is None


def test_a_new_context_replaces_the_old_one_and_an_empty_one_clears_it(store: Any) -> None:
    store.save(**THREAD, context=VIEWING)
    store.save(**THREAD, context={**VIEWING, "channel_id": "C0NEW"})
    assert store.find(**THREAD)["channel_id"] == "C0NEW"

    # The person left the channel: the thread views none.
    store.save(**THREAD, context={})
    assert store.find(**THREAD) is None


def test_fields_that_are_not_text_are_dropped(store: Any) -> None:
    store.save(**THREAD, context={"channel_id": "C0REV", "enterprise_id": None, "team_id": ""})

    assert store.find(**THREAD) == {"channel_id": "C0REV"}


def test_the_item_lives_under_its_own_key_prefix_with_a_ttl(
    ingress_stack: IngressStack,
) -> None:
    clock = Clock()
    on_table(ingress_stack, clock, ttl_s=600).save(**THREAD, context=VIEWING)

    item = ingress_stack.aws.dynamodb.get_item(
        TableName=ingress_stack.ingress.idempotency_table,
        Key={"id": {"S": f"{KEY_PREFIX}D0001:1795284200.000100"}},
    )["Item"]
    assert item["expiration"] == {"N": str(1_795_284_000 + 600)}
    # An event id claimed in the same table is not disturbed by it.
    idempotency = DynamoDBIdempotency(str(ingress_stack.ingress.idempotency_table),
                                      client=ingress_stack.aws.dynamodb)
    assert idempotency.claim("Ev08AT0001")


def test_an_expired_context_is_not_found(ingress_stack: IngressStack) -> None:
    clock = Clock()
    store = on_table(ingress_stack, clock, ttl_s=600)
    store.save(**THREAD, context=VIEWING)

    clock.now += 601

    assert store.find(**THREAD) is None


def test_an_unreadable_table_finds_no_context() -> None:
    class Down:
        def get_item(self, **kwargs: Any) -> Any:
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}},
                              "GetItem")

    store = DynamoDBThreadContexts("idempotency", client=Down())

    assert store.find(**THREAD) is None
