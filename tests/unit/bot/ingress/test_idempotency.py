"""The DynamoDB idempotency records (Powertools' layout) on moto."""

from __future__ import annotations

from typing import Any

import pytest

from bot.ingress.idempotency import (
    COMPLETED,
    IN_PROGRESS,
    DynamoDBIdempotency,
    IdempotencyUnavailable,
    LocalIdempotency,
    run_once,
)
from tests.support.ingress import IngressStack


class Clock:
    def __init__(self, now: float = 1_795_284_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def store_on(stack: IngressStack, clock: Clock, **kwargs: Any) -> DynamoDBIdempotency:
    return DynamoDBIdempotency(
        str(stack.ingress.idempotency_table), client=stack.aws.dynamodb, clock=clock, **kwargs
    )


def record(stack: IngressStack, key: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = stack.aws.dynamodb.get_item(
        TableName=stack.ingress.idempotency_table, Key={"id": {"S": key}}
    ).get("Item")
    return item


def test_claim_writes_an_in_progress_record_with_ttl(ingress_stack: IngressStack) -> None:
    clock = Clock()
    store = store_on(ingress_stack, clock, ttl_s=3600, in_progress_expiry_s=30)

    assert store.claim("Ev1")

    item = record(ingress_stack, "Ev1")
    assert item is not None
    assert item["status"] == {"S": IN_PROGRESS}
    assert item["expiration"] == {"N": str(1_795_284_000 + 3600)}
    assert item["in_progress_expiration"] == {"N": str((1_795_284_000 + 30) * 1000)}


def test_a_claimed_key_cannot_be_claimed_again_until_it_expires(
    ingress_stack: IngressStack,
) -> None:
    clock = Clock()
    store = store_on(ingress_stack, clock, ttl_s=3600)
    assert store.claim("Ev1")
    store.complete("Ev1")

    clock.now += 3599
    assert not store.claim("Ev1")
    item = record(ingress_stack, "Ev1")
    assert item is not None
    assert item["status"] == {"S": COMPLETED}

    # DynamoDB's TTL deletion is lazy: an expired record no longer counts.
    clock.now += 2
    assert store.claim("Ev1")


def test_a_claim_whose_invocation_died_is_taken_over(ingress_stack: IngressStack) -> None:
    clock = Clock()
    store = store_on(ingress_stack, clock, in_progress_expiry_s=30)
    assert store.claim("Ev1")

    clock.now += 29
    assert not store.claim("Ev1")
    clock.now += 2
    assert store.claim("Ev1")


def test_a_completed_record_is_not_taken_over_after_the_in_progress_window(
    ingress_stack: IngressStack,
) -> None:
    clock = Clock()
    store = store_on(ingress_stack, clock, in_progress_expiry_s=30)
    assert store.claim("Ev1")
    store.complete("Ev1")

    clock.now += 60
    assert not store.claim("Ev1")


def test_release_lets_the_next_delivery_through(ingress_stack: IngressStack) -> None:
    store = store_on(ingress_stack, Clock())
    assert store.claim("Ev1")

    store.release("Ev1")

    assert record(ingress_stack, "Ev1") is None
    assert store.claim("Ev1")


def test_a_missing_table_is_reported_as_unavailable(ingress_stack: IngressStack) -> None:
    store = DynamoDBIdempotency("no-such-table", client=ingress_stack.aws.dynamodb)

    with pytest.raises(IdempotencyUnavailable, match="claiming Ev1"):
        store.claim("Ev1")
    with pytest.raises(IdempotencyUnavailable, match="delete_item Ev1"):
        store.release("Ev1")


@pytest.mark.parametrize("make_store", ["dynamodb", "local"])
def test_run_once_runs_once_and_again_after_a_failure(
    ingress_stack: IngressStack, make_store: str
) -> None:
    store = store_on(ingress_stack, Clock()) if make_store == "dynamodb" else LocalIdempotency()
    runs: list[str] = []

    def fail() -> None:
        runs.append("failed")
        raise RuntimeError("queue down")

    with pytest.raises(RuntimeError):
        run_once(store, "Ev1", fail)
    assert run_once(store, "Ev1", lambda: runs.append("sent"))
    assert not run_once(store, "Ev1", lambda: runs.append("duplicate"))

    assert runs == ["failed", "sent"]


def test_run_once_reports_the_action_done_when_completing_the_claim_fails() -> None:
    class CompleteFails(LocalIdempotency):
        def complete(self, key: str) -> None:
            raise IdempotencyUnavailable(f"update_item {key}: throttled")

    store = CompleteFails()
    runs: list[str] = []

    assert run_once(store, "Ev1", lambda: runs.append("sent"))
    # The claim stands (in progress), so a retry of the delivery is still a duplicate.
    assert not run_once(store, "Ev1", lambda: runs.append("duplicate"))
    assert runs == ["sent"]
