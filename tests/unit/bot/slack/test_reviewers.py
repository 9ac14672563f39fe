"""Who is a reviewer: listed user ids at no cost, user-group members read from Slack and
kept for a few minutes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.reviewers import GROUP_TTL_S, Reviewers
from tests.support.clock import Clock
from tests.support.slack_api import SlackApiStandIn


@pytest.fixture
def client(slack_api: SlackApiStandIn) -> Iterator[WebClient]:
    yield WebClient(token=slack_api.token, base_url=slack_api.url)


def test_a_listed_user_is_a_reviewer_without_asking_slack(
    slack_api: SlackApiStandIn, client: WebClient
) -> None:
    reviewers = Reviewers(frozenset({"U0001", "W0002", "S0001"}))

    assert reviewers.include("U0001", client) and reviewers.include("W0002", client)
    assert slack_api.calls == []


def test_group_members_are_read_once_per_few_minutes(
    slack_api: SlackApiStandIn, client: WebClient
) -> None:
    # GIVEN a reviewer group of two people
    slack_api.set_usergroup("S0001", ["U0002", "U0003"])
    clock = Clock()
    reviewers = Reviewers(frozenset({"S0001"}), clock=clock)

    # WHEN its members and someone else click, within the cache's lifetime
    assert reviewers.include("U0002", client)
    assert reviewers.include("U0003", client)
    assert not reviewers.include("U0009", client)

    # THEN Slack was asked once
    [call] = slack_api.calls_to("usergroups.users.list")
    assert call.args["usergroup"] == "S0001"
    # AND once the members are older than the cache's lifetime, they are read again
    slack_api.set_usergroup("S0001", ["U0009"])
    clock.now += GROUP_TTL_S
    assert reviewers.include("U0009", client)
    assert not reviewers.include("U0002", client)
    assert slack_api.count("usergroups.users.list") == 2


def test_a_group_slack_cannot_list_admits_nobody_and_is_asked_again(
    slack_api: SlackApiStandIn, client: WebClient
) -> None:
    reviewers = Reviewers(frozenset({"S0BAD"}))

    assert not reviewers.include("U0002", client)
    slack_api.set_usergroup("S0BAD", ["U0002"])
    assert reviewers.include("U0002", client)
    assert [c.response["error"] if c.response and not c.response["ok"] else "ok"
            for c in slack_api.calls_to("usergroups.users.list")] == ["no_such_subteam", "ok"]


def test_nobody_is_a_reviewer_when_none_are_set(
    slack_api: SlackApiStandIn, client: WebClient
) -> None:
    assert not Reviewers(frozenset()).include("U0001", client)
    assert slack_api.calls == []


def test_the_stand_in_needs_a_group_as_slack_does(client: WebClient) -> None:
    with pytest.raises(SlackApiError, match="invalid_arguments"):
        client.api_call("usergroups.users.list", params={})
