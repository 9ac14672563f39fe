"""Slack settings from the environment, who they admit, and Slack secrets from Secrets
Manager."""

from __future__ import annotations

import json

import boto3
import pytest

from bot.config import ConfigError, Env
from bot.slack.config import Admission, SlackConfig
from tests.support.ingress import AwsClients


def slack_config(env: dict[str, str]) -> SlackConfig:
    return SlackConfig.from_env(Env(env))


def test_defaults_need_no_environment() -> None:
    settings = slack_config({})

    assert settings.slash_command == "/ask"
    assert settings.api_url == "https://slack.com/api/"
    assert admits(settings, "T1") is Admission.ADMITTED
    assert settings.allow_external_teams is False
    assert settings.home_team_id is None


def test_everything_is_read_from_the_environment() -> None:
    settings = slack_config(
        {
            "SLACK_SIGNING_SECRET": "s3cret",
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_APP_TOKEN": "xapp-1",
            "SLACK_API_URL": "http://127.0.0.1:9/api/",
            "SLASH_COMMAND": "data",
            "ALLOWED_TEAM_IDS": "T1, T2",
            "ALLOWED_CHANNEL_IDS": "C1",
            "ALLOWED_USER_IDS": "",
            "ALLOW_EXTERNAL_TEAMS": "true",
            "SLACK_TEAM_ID": "T1",
        }
    )

    assert (settings.signing_secret, settings.bot_token) == ("s3cret", "xoxb-1")
    assert (settings.app_token, settings.api_url) == ("xapp-1", "http://127.0.0.1:9/api/")
    assert settings.slash_command == "/data"
    assert settings.allowed_team_ids == {"T1", "T2"}
    assert (settings.allow_external_teams, settings.home_team_id) == (True, "T1")
    assert admits(settings, "T2") is Admission.ADMITTED
    assert admits(settings, "T3") is Admission.EXTERNAL  # neither SLACK_TEAM_ID nor listed
    assert admits(settings, "T1", channel="C2") is Admission.REFUSED


def test_reviewers_are_user_and_user_group_ids() -> None:
    assert slack_config({}).reviewers == frozenset()
    settings = slack_config({"VERIFIED_REVIEWERS": "U0001, W0002,S0003"})
    assert settings.reviewers == {"U0001", "W0002", "S0003"}
    with pytest.raises(ConfigError, match=r"VERIFIED_REVIEWERS .* not C0001, alice"):
        slack_config({"VERIFIED_REVIEWERS": "U0001,C0001,alice"})


def admits(
    settings: SlackConfig,
    team: str,
    *,
    asker_team: str = "",
    homes: frozenset[str] = frozenset(),
    channel: str = "C1",
) -> Admission:
    return settings.admits(
        team_id=team,
        asker_team_id=asker_team,
        home_team_ids=homes,
        channel=channel,
        user_id="U1",
    )


@pytest.mark.parametrize(
    ("env", "asker_team", "expected"),
    [
        # the installing team's own people
        ({}, "T1", Admission.ADMITTED),
        # the same organisation at the enterprise level (a Grid org-wide user)
        ({}, "E1", Admission.ADMITTED),
        # another organisation
        ({}, "T9", Admission.EXTERNAL),
        ({"ALLOW_EXTERNAL_TEAMS": "true"}, "T9", Admission.ADMITTED),
        # listed by name: a partner team is let in without ALLOW_EXTERNAL_TEAMS
        ({"ALLOWED_TEAM_IDS": "T1,T9"}, "T9", Admission.ADMITTED),
        # the team allowlist applies to the asker's team even when externals are allowed
        ({"ALLOWED_TEAM_IDS": "T1", "ALLOW_EXTERNAL_TEAMS": "true"}, "T9", Admission.EXTERNAL),
        # an allowlist that leaves out the installation itself refuses its own people
        ({"ALLOWED_TEAM_IDS": "T5"}, "T1", Admission.REFUSED),
    ],
)
def test_the_askers_own_team_decides_who_is_external(
    env: dict[str, str], asker_team: str, expected: Admission
) -> None:
    # GIVEN an event delivered for installation T1 (enterprise E1)
    settings = slack_config(env)

    # WHEN the asker's own team is `asker_team`
    admission = admits(settings, "T1", asker_team=asker_team, homes=frozenset({"T1", "E1"}))

    # THEN
    assert admission is expected


def test_without_a_named_installation_only_slack_team_id_can_tell_an_outsider() -> None:
    # GIVEN a slash command, whose payload names the asker's team only
    def command_from(team: str, env: dict[str, str]) -> Admission:
        return admits(slack_config(env), team, asker_team=team)

    # THEN it cannot be told external without SLACK_TEAM_ID, and can with it
    assert command_from("T9", {}) is Admission.ADMITTED
    assert command_from("T9", {"SLACK_TEAM_ID": "T1"}) is Admission.EXTERNAL
    assert command_from("T1", {"SLACK_TEAM_ID": "T1"}) is Admission.ADMITTED


@pytest.mark.parametrize("value", ["maybe", "2", "on!"])
def test_allow_external_teams_must_be_a_boolean(value: str) -> None:
    message = f"ALLOW_EXTERNAL_TEAMS must be true or false, got '{value}'"
    with pytest.raises(ConfigError, match=message):
        slack_config({"ALLOW_EXTERNAL_TEAMS": value})


def test_secrets_never_show_in_the_settings_repr() -> None:
    settings = slack_config(
        {"SLACK_SIGNING_SECRET": "s3cret-value", "SLACK_BOT_TOKEN": "xoxb-token-value",
         "SLACK_APP_TOKEN": "xapp-token-value"}
    )

    assert "s3cret-value" not in repr(settings)
    assert "xoxb-token-value" not in repr(settings)
    assert "xapp-token-value" not in repr(settings)


def test_require_names_every_missing_credential() -> None:
    with pytest.raises(ConfigError) as error:
        slack_config({}).require(signing_secret=True)

    assert str(error.value) == (
        "missing settings: SLACK_SIGNING_SECRET (or SLACK_SECRET_ARN), "
        "SLACK_BOT_TOKEN (or SLACK_SECRET_ARN)"
    )
    slack_config({"SLACK_BOT_TOKEN": "xoxb-1"}).require()  # the app alone needs no secret


def test_slack_secrets_come_from_secrets_manager(ingress_aws: AwsClients) -> None:
    client = boto3.client("secretsmanager")
    arn = client.create_secret(
        Name="databot/slack-1",
        SecretString=json.dumps({"SLACK_SIGNING_SECRET": "from-sm", "SLACK_BOT_TOKEN": "xoxb-sm"}),
    )["ARN"]

    settings = slack_config({"SLACK_SECRET_ARN": arn}).with_secrets(client=client)

    assert (settings.signing_secret, settings.bot_token) == ("from-sm", "xoxb-sm")


def test_environment_values_win_and_skip_the_fetch() -> None:
    class NoCalls:
        def get_secret_value(self, **kwargs: str) -> None:
            raise AssertionError("Secrets Manager must not be called")

    settings = slack_config(
        {"SLACK_SECRET_ARN": "arn:x", "SLACK_SIGNING_SECRET": "env", "SLACK_BOT_TOKEN": "xoxb-env"}
    )

    assert settings.with_secrets(client=NoCalls()) is settings


def test_a_secret_that_is_not_json_is_a_clear_error_without_its_content(
    ingress_aws: AwsClients,
) -> None:
    client = boto3.client("secretsmanager")
    arn = client.create_secret(Name="databot/slack-2", SecretString="hunter2-not-json")["ARN"]

    with pytest.raises(ConfigError, match="is not a JSON object") as error:
        slack_config({"SLACK_SECRET_ARN": arn}).with_secrets(client=client)

    assert "hunter2" not in str(error.value)
    assert error.value.__cause__ is None
