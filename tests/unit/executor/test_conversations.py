"""Conversation memory in CONVERSATIONS_TABLE (moto): order, token budget, TTL, once per job."""

from __future__ import annotations

import boto3

from executor.conversations import DEFAULT_TTL_S, MAX_ANSWER_CHARS, ConversationStore
from executor.engine import Turn
from tests.support.aws import AwsStack


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def store(aws_stack: AwsStack, **kwargs: object) -> ConversationStore:
    return ConversationStore(aws_stack.conversations_table, client=boto3.client("dynamodb"),
                             **kwargs)  # type: ignore[arg-type]


def test_turns_come_back_oldest_first(aws_stack: AwsStack) -> None:
    memory = store(aws_stack)
    for n in range(3):
        memory.append("T:C:1", Turn(f"question {n}", [f"SELECT {n}"], f"answer {n}"),
                      job_id=f"j{n}")
    assert [t.question for t in memory.history("T:C:1")] == [f"question {n}" for n in range(3)]
    assert memory.history("T:C:1")[2].sql == ["SELECT 2"]
    assert memory.history("T:C:other") == []


def test_only_the_latest_turns_within_the_token_budget_are_kept(aws_stack: AwsStack) -> None:
    # GIVEN ten turns of about 250 tokens each and a 600-token budget
    memory = store(aws_stack, token_budget=600)
    for n in range(10):
        memory.append("T:C:2", Turn(f"q{n}", [], "x" * 996), job_id=f"j{n}")
    # THEN only the two most recent turns fit
    assert [t.question for t in memory.history("T:C:2")] == ["q8", "q9"]


def test_turns_expire_after_the_ttl(aws_stack: AwsStack) -> None:
    clock = Clock(1_800_000_000)
    memory = store(aws_stack, clock=clock)
    memory.append("T:C:3", Turn("old", [], "a"), job_id="j1")
    item = boto3.client("dynamodb").get_item(
        TableName=aws_stack.conversations_table,
        Key={"conversation_id": {"S": "T:C:3"}, "turn": {"N": "1"}},
    )["Item"]
    assert int(item["expiration"]["N"]) == 1_800_000_000 + DEFAULT_TTL_S
    clock.now += DEFAULT_TTL_S + 1
    assert memory.history("T:C:3") == []
    # a new turn after the expired one still gets the next number
    assert memory.append("T:C:3", Turn("new", [], "b"), job_id="j2") == 2
    assert [t.question for t in memory.history("T:C:3")] == ["new"]


def test_a_job_adds_its_turn_once_and_long_answers_are_cut(aws_stack: AwsStack) -> None:
    memory = store(aws_stack)
    first = memory.append("T:C:4", Turn("q", [], "y" * 5000), job_id="j1")
    again = memory.append("T:C:4", Turn("q", [], "y" * 5000), job_id="j1")
    assert first == again == 1
    (turn,) = memory.history("T:C:4")
    assert len(turn.answer) == MAX_ANSWER_CHARS
