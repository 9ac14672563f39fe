"""Teams settings from the environment, the tenant allowlist, and the password from Secrets
Manager."""

from __future__ import annotations

import json

import boto3
import pytest

from bot.config import ConfigError, Env
from bot.teams.config import (
    BOTFRAMEWORK_TOKEN_URL,
    DEFAULT_OPENID_METADATA_URL,
    DEFAULT_SERVICE_URL_HOSTS,
    TeamsConfig,
)
from tests.support.ingress import AwsClients


def teams_config(env: dict[str, str]) -> TeamsConfig:
    return TeamsConfig.from_env(Env(env))


def test_defaults_are_microsofts_endpoints_and_every_tenant() -> None:
    settings = teams_config({})

    assert settings.app_id is None
    assert settings.openid_metadata_url == DEFAULT_OPENID_METADATA_URL
    assert settings.token_url == BOTFRAMEWORK_TOKEN_URL
    assert "smba.trafficmanager.net" in settings.service_url_hosts
    assert settings.admits_tenant("any-tenant")


def test_everything_is_read_from_the_environment() -> None:
    settings = teams_config({
        "TEAMS_APP_ID": "app-1",
        "TEAMS_APP_PASSWORD": "pw",
        "TEAMS_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:teams",
        "TEAMS_TENANT_IDS": "tenant-a, tenant-b",
        "TEAMS_OPENID_METADATA_URL": "http://127.0.0.1:9/openid",
        "TEAMS_TOKEN_URL": "http://127.0.0.1:9/token",
        "TEAMS_SERVICE_URL_HOSTS": "127.0.0.1, Example.COM",
        "VERIFIED_REVIEWERS": "U0001, 6f1c-aad-object-id",
    })

    assert (settings.app_id, settings.app_password) == ("app-1", "pw")
    assert settings.secret_arn == "arn:aws:secretsmanager:eu-west-1:1:secret:teams"
    assert settings.tenant_ids == {"tenant-a", "tenant-b"}
    assert settings.openid_metadata_url == "http://127.0.0.1:9/openid"
    assert settings.token_url == "http://127.0.0.1:9/token"
    assert settings.service_url_hosts == {"127.0.0.1", "example.com"}
    assert "6f1c-aad-object-id" in settings.reviewers
    assert settings.admits_tenant("tenant-b")
    assert not settings.admits_tenant("tenant-c")
    assert not settings.admits_tenant(None)


def test_a_single_tenant_app_gets_its_tenants_token_endpoint() -> None:
    settings = teams_config({"TEAMS_TENANT_IDS": "tenant-a"})

    assert settings.token_url == (
        "https://login.microsoftonline.com/tenant-a/oauth2/v2.0/token"
    )
    assert settings.service_url_hosts == DEFAULT_SERVICE_URL_HOSTS


def test_the_password_never_shows_in_the_settings_repr() -> None:
    assert "pw-value" not in repr(teams_config({"TEAMS_APP_PASSWORD": "pw-value"}))


def test_require_names_what_is_missing() -> None:
    with pytest.raises(ConfigError) as error:
        teams_config({}).require(password=True)

    assert str(error.value) == (
        "missing settings: TEAMS_APP_ID, TEAMS_APP_PASSWORD (or TEAMS_SECRET_ARN)"
    )
    teams_config({"TEAMS_APP_ID": "app-1"}).require()  # the front door needs no password


def test_the_password_comes_from_secrets_manager(ingress_aws: AwsClients) -> None:
    client = boto3.client("secretsmanager")
    arn = client.create_secret(
        Name="databot/teams-1", SecretString=json.dumps({"TEAMS_APP_PASSWORD": "from-sm"})
    )["ARN"]

    settings = teams_config({"TEAMS_SECRET_ARN": arn}).with_secrets(client=client)

    assert settings.app_password == "from-sm"


def test_a_secret_without_the_password_is_a_clear_error(ingress_aws: AwsClients) -> None:
    client = boto3.client("secretsmanager")
    arn = client.create_secret(Name="databot/teams-2", SecretString="{}")["ARN"]

    with pytest.raises(ConfigError, match="has no TEAMS_APP_PASSWORD"):
        teams_config({"TEAMS_SECRET_ARN": arn}).with_secrets(client=client)


def test_an_environment_password_skips_the_fetch() -> None:
    class NoCalls:
        def get_secret_value(self, **kwargs: str) -> None:
            raise AssertionError("Secrets Manager must not be called")

    settings = teams_config({"TEAMS_SECRET_ARN": "arn:x", "TEAMS_APP_PASSWORD": "env"})

    assert settings.with_secrets(client=NoCalls()) is settings
