"""What databot will not try: requests to change data, and small talk; everything else is a
question, including questions that mention a change."""

from __future__ import annotations

import pytest

from executor.scope import Scope, classify


@pytest.mark.parametrize(
    "text",
    [
        "delete all users",
        "Delete the churned users please",
        "please drop the users table",
        "can you update user 42's plan to enterprise?",
        "Could you remove duplicates from interactions",
        "I want you to insert a test user",
        "truncate interactions",
        "go ahead and wipe the test data",
        "set every free user to pro",
        "run DELETE FROM users WHERE plan = 'free'",
        "what happens if I DROP TABLE users?",
        "UPDATE users SET plan = 'pro'",
        "insert into users values (1)",
        "alter table users add column x int",
        "grant select on users to bob",
        "create table backup as select * from users",
    ],
)
def test_requests_to_change_data(text: str) -> None:
    assert classify(text) is Scope.WRITE_REQUEST


@pytest.mark.parametrize(
    "text",
    [
        "how many users deleted their account last month?",
        "change in revenue month over month",
        "update on signups this week?",
        "add up revenue by country",
        "users who dropped off after the first session",
        "cancellations by month",
        "how many purchases were refunded?",
        "which plan has the most updates?",
        "what is revenue by country?",
        "signups per week",
        "set of users who never purchased",
        "hi, how many users signed up yesterday?",
    ],
)
def test_questions_stay_questions(text: str) -> None:
    assert classify(text) is Scope.QUESTION


@pytest.mark.parametrize(
    "text",
    ["hi", "Hello!", "hey databot", "hi there!", "thanks", "Thank you!", "what can you do?", "help",
     "who are you?", "good morning", "cheers"],
)
def test_small_talk(text: str) -> None:
    assert classify(text) is Scope.SMALL_TALK
