"""Ingress settings from the environment, and Slack secrets from Secrets Manager."""

from __future__ import annotations

import json

import boto3
import pytest

from bot.settings import IngressSettings, SettingsError, fetch_slack_secret
from tests.support.ingress import AwsClients


def test_defaults_need_no_environment() -> None:
    settings = IngressSettings.from_env({})

    assert settings.slash_command == "/ask"
    assert settings.max_question_chars == 4000
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.allows("T1", "C1", "U1")


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
        }
    )

    assert (settings.signing_secret, settings.bot_token) == ("s3cret", "xoxb-1")
    assert settings.slash_command == "/data"
    assert settings.max_question_chars == 500
    assert settings.allowed_team_ids == {"T1", "T2"}
    assert settings.allows("T2", "C1", "anyone")
    assert not settings.allows("T3", "C1", "anyone")
    assert not settings.allows("T1", "C2", "anyone")


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
