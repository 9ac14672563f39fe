"""Slack Connect: people from other organisations, told apart by their own team.

In a shared channel the envelope's `team_id` is the installing workspace; the asker's own
team is `event.user_team`. A slash command names only the asker's workspace, so the
installation's comes from SLACK_TEAM_ID (or ALLOWED_TEAM_IDS).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from bot.slack.notices import NOT_ALLOWED
from tests.support.events import load_event
from tests.support.ingress import IngressStack
from tests.support.signing import signed

PARTNER = "T0PARTNER"


def with_event(name: str, **changes: Any) -> dict[str, Any]:
    """events/<name>.json with fields of its Slack `event` replaced."""
    event = load_event(name)
    body = json.loads(event["body"])
    body["event"].update(changes)
    event["body"] = json.dumps(body)
    return event


def dropped_as_external(logs: list[logging.LogRecord]) -> bool:
    return any("another organisation" in record.getMessage() for record in logs)


def test_a_slack_connect_mention_from_another_organisation_is_dropped_quietly(
    ingress_stack: IngressStack, ingress_logs: list[logging.LogRecord]
) -> None:
    # GIVEN the default settings (ALLOW_EXTERNAL_TEAMS off)
    handler = ingress_stack.slack()

    # WHEN a partner's employee mentions the bot in a shared channel
    response = handler(signed("app_mention_slack_connect"))

    # THEN Slack gets its ack, nothing is queued, nothing is posted where outsiders see it
    assert response["statusCode"] == 200
    assert ingress_stack.queued_jobs() == []
    assert ingress_stack.slack_api.calls == []
    assert dropped_as_external(ingress_logs)


def test_with_allow_external_teams_the_partner_is_answered_in_the_installing_workspace(
    ingress_stack: IngressStack,
) -> None:
    handler = ingress_stack.slack(allow_external_teams=True)

    assert handler(signed("app_mention_slack_connect"))["statusCode"] == 200

    [job] = ingress_stack.queued_jobs()
    assert (job.job_id, job.user_id) == ("Ev08CONNECT1", "U0PARTNER1")
    assert (job.reply_to.team_id, job.reply_to.channel) == ("T0001", "C0SHARED")


@pytest.mark.parametrize(
    ("settings", "queued"),
    [
        # listed by name: the partner is let in without ALLOW_EXTERNAL_TEAMS
        ({"allowed_team_ids": frozenset({"T0001", PARTNER})}, True),
        # the team allowlist is checked against the asker's team, not only the envelope's
        ({"allowed_team_ids": frozenset({"T0001"})}, False),
        ({"allowed_team_ids": frozenset({"T0001"}), "allow_external_teams": True}, False),
    ],
)
def test_allowed_team_ids_applies_to_the_askers_team(
    ingress_stack: IngressStack, settings: dict[str, Any], queued: bool
) -> None:
    handler = ingress_stack.slack(**settings)

    assert handler(signed("app_mention_slack_connect"))["statusCode"] == 200

    assert len(ingress_stack.queued_jobs()) == (1 if queued else 0)
    assert ingress_stack.slack_api.calls == []  # refused outsiders get no notice


@pytest.mark.parametrize(
    "event",
    [
        # the installing team's own people in a shared channel
        with_event("app_mention_slack_connect", user_team="T0001", team="T0001"),
        # an org-wide (Enterprise Grid) user, whose team is the installation's enterprise
        with_event("app_mention_slack_connect", user_team="E0001", team="E0001"),
    ],
    ids=["home_user_in_shared_channel", "same_enterprise"],
)
def test_people_of_the_installing_organisation_are_answered_in_shared_channels(
    ingress_stack: IngressStack, event: dict[str, Any]
) -> None:
    body = json.loads(event["body"])
    body["authorizations"][0]["enterprise_id"] = "E0001"
    event["body"] = json.dumps(body)

    assert ingress_stack.slack()(signed(event))["statusCode"] == 200

    assert [job.job_id for job in ingress_stack.queued_jobs()] == ["Ev08CONNECT1"]


def test_a_direct_message_from_another_organisation_is_dropped(
    ingress_stack: IngressStack, ingress_logs: list[logging.LogRecord]
) -> None:
    event = with_event("message_im", user_team=PARTNER, team=PARTNER)

    assert ingress_stack.slack()(signed(event))["statusCode"] == 200

    assert ingress_stack.queued_jobs() == []
    assert ingress_stack.slack_api.calls == []
    assert dropped_as_external(ingress_logs)


@pytest.mark.parametrize(
    ("settings", "refused"),
    [
        ({"home_team_id": "T0001"}, True),
        ({"allowed_team_ids": frozenset({"T0001"})}, True),
        ({"home_team_id": "T0001", "allow_external_teams": True}, False),
    ],
    ids=["slack_team_id", "allowed_team_ids", "externals_allowed"],
)
def test_a_slash_command_from_another_organisation(
    ingress_stack: IngressStack, settings: dict[str, Any], refused: bool
) -> None:
    # GIVEN the installation known from settings WHEN a partner types /ask
    response = ingress_stack.slack(**settings)(signed("slash_command_external"))

    # THEN the refusal is the private ack (nothing posted), unless externals are allowed
    assert response["statusCode"] == 200
    assert ingress_stack.slack_api.calls == []
    if refused:
        assert response["body"] == NOT_ALLOWED
        assert ingress_stack.queued_jobs() == []
    else:
        assert response["body"].startswith("Working on it")
        assert [job.user_id for job in ingress_stack.queued_jobs()] == ["U0PARTNER1"]


def test_the_installing_teams_own_slash_command_passes_with_slack_team_id(
    ingress_stack: IngressStack,
) -> None:
    response = ingress_stack.slack(home_team_id="T0001")(signed("slash_command"))

    assert response["body"].startswith("Working on it")
    assert len(ingress_stack.queued_jobs()) == 1
