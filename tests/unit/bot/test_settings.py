"""Ingress settings from the environment, and Slack secrets from Secrets Manager."""

from __future__ import annotations

import json

import boto3
import pytest

from bot.settings import Admission, IngressSettings, SettingsError, fetch_slack_secret
from tests.support.ingress import AwsClients


def test_defaults_need_no_environment() -> None:
    settings = IngressSettings.from_env({})

    assert settings.slash_command == "/ask"
    assert settings.max_question_chars == 4000
    assert settings.slack_api_url == "https://slack.com/api/"
    assert admits(settings, "T1") is Admission.ADMITTED
    assert settings.allow_external_teams is False
    assert settings.slack_team_id is None


def test_everything_is_read_from_the_environment() -> None:
    settings = IngressSettings.from_env(
        {
            "SLACK_SIGNING_SECRET": "s3cret",
            "SLACK_BOT_TOKEN": "xoxb-1",
            "JOBS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/jobs",
            "IDEMPOTENCY_TABLE": "idem",
            "JOBS_TABLE": "jobs",
            "SLASH_COMMAND": "data",
            "MAX_QUESTION_CHARS": "500",
            "ALLOWED_TEAM_IDS": "T1, T2",
            "ALLOWED_CHANNEL_IDS": "C1",
            "ALLOWED_USER_IDS": "",
            "ALLOW_EXTERNAL_TEAMS": "true",
            "SLACK_TEAM_ID": "T1",
        }
    )

    assert (settings.signing_secret, settings.bot_token) == ("s3cret", "xoxb-1")
    assert settings.slash_command == "/data"
    assert settings.max_question_chars == 500
    assert settings.allowed_team_ids == {"T1", "T2"}
    assert (settings.allow_external_teams, settings.slack_team_id) == (True, "T1")
    assert admits(settings, "T2") is Admission.ADMITTED
    assert admits(settings, "T3") is Admission.EXTERNAL  # neither SLACK_TEAM_ID nor listed
    assert admits(settings, "T1", channel="C2") is Admission.REFUSED


def admits(
    settings: IngressSettings,
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
    settings = IngressSettings.from_env(env)

    # WHEN the asker's own team is `asker_team`
    admission = admits(settings, "T1", asker_team=asker_team, homes=frozenset({"T1", "E1"}))

    # THEN
    assert admission is expected


def test_without_a_named_installation_only_slack_team_id_can_tell_an_outsider() -> None:
    # GIVEN a slash command, whose payload names the asker's team only
    def command_from(team: str, env: dict[str, str]) -> Admission:
        return admits(IngressSettings.from_env(env), team, asker_team=team)

    # THEN it cannot be told external without SLACK_TEAM_ID, and can with it
    assert command_from("T9", {}) is Admission.ADMITTED
    assert command_from("T9", {"SLACK_TEAM_ID": "T1"}) is Admission.EXTERNAL
    assert command_from("T1", {"SLACK_TEAM_ID": "T1"}) is Admission.ADMITTED


@pytest.mark.parametrize("value", ["maybe", "2", "on!"])
def test_allow_external_teams_must_be_a_boolean(value: str) -> None:
    with pytest.raises(SettingsError, match="ALLOW_EXTERNAL_TEAMS"):
        IngressSettings.from_env({"ALLOW_EXTERNAL_TEAMS": value})


def test_secrets_never_show_in_the_settings_repr() -> None:
    settings = IngressSettings.from_env(
        {"SLACK_SIGNING_SECRET": "s3cret-value", "SLACK_BOT_TOKEN": "xoxb-token-value"}
    )

    assert "s3cret-value" not in repr(settings)
    assert "xoxb-token-value" not in repr(settings)


@pytest.mark.parametrize("value", ["zero", "0", "-3", "4k"])
def test_a_malformed_number_names_the_setting(value: str) -> None:
    with pytest.raises(SettingsError, match="MAX_QUESTION_CHARS must be a positive integer"):
        IngressSettings.from_env({"MAX_QUESTION_CHARS": value})


def test_require_names_every_missing_setting() -> None:
    with pytest.raises(SettingsError) as error:
        IngressSettings.from_env({}).require("signing_secret", "jobs_queue_url")

    assert "SLACK_SIGNING_SECRET" in str(error.value)
    assert "JOBS_QUEUE_URL" in str(error.value)


def test_slack_secrets_come_from_secrets_manager(ingress_aws: AwsClients) -> None:
    client = boto3.client("secretsmanager")
    arn = client.create_secret(
        Name="databot/slack-1",
        SecretString=json.dumps({"SLACK_SIGNING_SECRET": "from-sm", "SLACK_BOT_TOKEN": "xoxb-sm"}),
    )["ARN"]

    settings = IngressSettings.from_env({"SLACK_SECRET_ARN": arn}).with_slack_secrets(client=client)

    assert (settings.signing_secret, settings.bot_token) == ("from-sm", "xoxb-sm")


def test_environment_values_win_and_skip_the_fetch() -> None:
    class NoCalls:
        def get_secret_value(self, **kwargs: str) -> None:
            raise AssertionError("Secrets Manager must not be called")

    settings = IngressSettings.from_env(
        {"SLACK_SECRET_ARN": "arn:x", "SLACK_SIGNING_SECRET": "env", "SLACK_BOT_TOKEN": "xoxb-env"}
    )

    assert settings.with_slack_secrets(client=NoCalls()) is settings


def test_a_secret_that_is_not_json_is_a_clear_error_without_its_content(
    ingress_aws: AwsClients,
) -> None:
    client = boto3.client("secretsmanager")
    arn = client.create_secret(Name="databot/slack-2", SecretString="hunter2-not-json")["ARN"]

    with pytest.raises(SettingsError, match="is not a JSON object") as error:
        fetch_slack_secret(arn, client=client)

    assert "hunter2" not in str(error.value)
    assert error.value.__cause__ is None
