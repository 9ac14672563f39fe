"""Teams' settings, shared by the front door and the worker's delivery: the bot's app id and
password, the tenants it serves, where Bot Framework's signing keys and the bot's tokens come
from, and which Bot Connector hosts may receive the bot's token.

The password comes from `TEAMS_APP_PASSWORD` or, in AWS, from the Secrets Manager secret
named by `TEAMS_SECRET_ARN`: a JSON object with a `TEAMS_APP_PASSWORD` key. `with_secrets`
fetches it, once per container, never at import time; the front door never needs it.
Tests and `sam local invoke` point the metadata and token URLs at local stand-ins.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from bot.config import ConfigError, Env, read_json_secret, require

DEFAULT_OPENID_METADATA_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
# Multi-tenant bots get their token here; a single-tenant app uses its own tenant's endpoint
# (the default when TEAMS_TENANT_IDS names exactly one tenant).
BOTFRAMEWORK_TOKEN_URL = "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token"
TENANT_TOKEN_URL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
# The Bot Connector's hosts: the public cloud, then GCC, GCC High and DoD.
DEFAULT_SERVICE_URL_HOSTS = frozenset({
    "smba.trafficmanager.net",
    "smba.infra.gcc.teams.microsoft.com",
    "smba.infra.gov.teams.microsoft.us",
    "smba.infra.dod.teams.microsoft.us",
})
# Bot Framework's tokens name this issuer; Teams' signing keys are endorsed for this channel.
TOKEN_ISSUER = "https://api.botframework.com"
CHANNEL_ID = "msteams"


@dataclass(frozen=True)
class TeamsConfig:
    app_id: str | None = None
    app_password: str | None = field(default=None, repr=False)
    secret_arn: str | None = None
    # Tenants allowed to use the bot; empty allows every tenant.
    tenant_ids: frozenset[str] = frozenset()
    openid_metadata_url: str = DEFAULT_OPENID_METADATA_URL
    token_url: str = BOTFRAMEWORK_TOKEN_URL
    service_url_hosts: frozenset[str] = DEFAULT_SERVICE_URL_HOSTS
    # VERIFIED_REVIEWERS: who may verify answers and retire entries; a Teams reviewer is
    # named by their Entra (AAD) object id.
    reviewers: frozenset[str] = frozenset()

    @classmethod
    def from_env(cls, env: Env) -> TeamsConfig:
        tenant_ids = env.ids("TEAMS_TENANT_IDS")
        default_token_url = (
            TENANT_TOKEN_URL.format(tenant=next(iter(tenant_ids)))
            if len(tenant_ids) == 1 else BOTFRAMEWORK_TOKEN_URL
        )
        return cls(
            app_id=env.text("TEAMS_APP_ID"),
            app_password=env.text("TEAMS_APP_PASSWORD"),
            secret_arn=env.text("TEAMS_SECRET_ARN"),
            tenant_ids=tenant_ids,
            openid_metadata_url=env.text("TEAMS_OPENID_METADATA_URL", cls.openid_metadata_url),
            token_url=env.text("TEAMS_TOKEN_URL", default_token_url),
            service_url_hosts=(
                frozenset(host.lower() for host in env.ids("TEAMS_SERVICE_URL_HOSTS"))
                or DEFAULT_SERVICE_URL_HOSTS
            ),
            reviewers=env.ids("VERIFIED_REVIEWERS"),
        )

    def admits_tenant(self, tenant_id: str | None) -> bool:
        """Whether the tenant may use the bot (every tenant when none are listed)."""
        return not self.tenant_ids or tenant_id in self.tenant_ids

    def with_secrets(self, *, client: Any = None) -> TeamsConfig:
        """These settings with the password filled in from Secrets Manager when
        `TEAMS_SECRET_ARN` is set and the environment does not already carry it."""
        if self.secret_arn is None or self.app_password:
            return self
        password = read_json_secret(self.secret_arn, client=client).get("TEAMS_APP_PASSWORD")
        if not isinstance(password, str) or not password:
            raise ConfigError(f"secret {self.secret_arn} has no TEAMS_APP_PASSWORD")
        return replace(self, app_password=password)

    def require(self, *, password: bool = False) -> None:
        """Raise ConfigError unless the app id (and the password) are set."""
        require({
            "TEAMS_APP_ID": self.app_id,
            **({"TEAMS_APP_PASSWORD (or TEAMS_SECRET_ARN)": self.app_password}
               if password else {}),
        })
