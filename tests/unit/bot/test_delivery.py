"""The channel registry: which platforms a process can reply on, from its settings."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest

from bot.config import ConfigError, Env
from bot.delivery import ChannelsConfig, NoChannel, Unconfigured, open_channels
from bot.job_store import JobRecord
from bot.teams.outbox import TeamsChannel
from tests.support.aws import AwsStack
from tests.support.teams_connector import APP_ID, teams_job


def channels_for(**env: str) -> object:
    return open_channels(ChannelsConfig.from_env(Env(env))).for_kind("teams")


def test_teams_is_opened_with_an_app_password() -> None:
    assert isinstance(channels_for(TEAMS_APP_ID=APP_ID, TEAMS_APP_PASSWORD="p"), TeamsChannel)


def test_teams_jobs_fail_at_once_without_a_password() -> None:
    channel = channels_for(TEAMS_APP_ID=APP_ID)
    assert isinstance(channel, Unconfigured)
    job = teams_job("https://smba.trafficmanager.net/amer/")
    record = JobRecord(job.job_id, "running", "teams", job.text, "", "", claims=1)
    with pytest.raises(NoChannel, match="no Teams app password"):
        channel.outbox(job, record, None)  # type: ignore[arg-type]


def test_a_password_without_the_app_id_is_named() -> None:
    with pytest.raises(ConfigError, match="TEAMS_APP_ID"):
        channels_for(TEAMS_APP_PASSWORD="p")


def test_the_password_comes_from_the_teams_secret(aws_stack: AwsStack) -> None:
    arn = boto3.client("secretsmanager").create_secret(
        Name=f"databot-teams-{uuid.uuid4().hex[:8]}",
        SecretString=json.dumps({"TEAMS_APP_PASSWORD": "from-the-secret"}),
    )["ARN"]
    channel = channels_for(TEAMS_APP_ID=APP_ID, TEAMS_SECRET_ARN=arn)
    assert isinstance(channel, TeamsChannel)
    assert channel.connector._token._credentials.password == "from-the-secret"
