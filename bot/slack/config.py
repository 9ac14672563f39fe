"""Slack's settings: the app's credentials, where its Web API is, the slash command, who
may ask (the allowlists, and `admits`, which applies them) and who may verify answers.

Credentials come from `SLACK_SIGNING_SECRET` / `SLACK_BOT_TOKEN`, or, in AWS, from the
Secrets Manager secret named by `SLACK_SECRET_ARN`: a JSON object with those same two keys.
`with_secrets` fetches it, once per container, never at import time.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from bot.config import ConfigError, Env, read_json_secret, require

DEFAULT_API_URL = "https://slack.com/api/"
# Slack ids a reviewer list may hold: users (U…, W… in Enterprise Grid) and user groups (S…).
REVIEWER_ID_PREFIXES = ("U", "W", "S")


class Admission(Enum):
    """Whether the allowlists let a question through, and if not, whether the asker is
    from another organisation (their refusal is not posted where others can see)."""

    ADMITTED = "admitted"
    REFUSED = "refused"
    EXTERNAL = "external"


@dataclass(frozen=True)
class SlackConfig:
    signing_secret: str | None = field(default=None, repr=False)
    bot_token: str | None = field(default=None, repr=False)
    # Socket Mode's app-level token (xapp-), for `databot dev` only.
    app_token: str | None = field(default=None, repr=False)
    secret_arn: str | None = None
    api_url: str = DEFAULT_API_URL
    slash_command: str = "/ask"
    allowed_team_ids: frozenset[str] = frozenset()
    allowed_channel_ids: frozenset[str] = frozenset()
    allowed_user_ids: frozenset[str] = frozenset()
    # Channels where databot is switched off, whatever the allowlists say: the quick way
    # to turn it off in one channel (docs/operations.md).
    blocked_channel_ids: frozenset[str] = frozenset()
    # People whose own team is neither the installing team nor in allowed_team_ids (Slack
    # Connect guests from other organisations) are refused unless this is on.
    allow_external_teams: bool = False
    # The installing workspace, for payloads that do not name it (slash commands).
    home_team_id: str | None = None
    # Who may verify answers and retire verified entries (bot/slack/reviewers.py): user
    # and user-group ids. Empty: nobody.
    reviewers: frozenset[str] = frozenset()

    @classmethod
    def from_env(cls, env: Env) -> SlackConfig:
        slash_command = env.text("SLASH_COMMAND", cls.slash_command)
        return cls(
            signing_secret=env.text("SLACK_SIGNING_SECRET"),
            bot_token=env.text("SLACK_BOT_TOKEN"),
            app_token=env.text("SLACK_APP_TOKEN"),
            secret_arn=env.text("SLACK_SECRET_ARN"),
            api_url=env.text("SLACK_API_URL", DEFAULT_API_URL),
            slash_command=slash_command if slash_command.startswith("/") else f"/{slash_command}",
            allowed_team_ids=env.ids("ALLOWED_TEAM_IDS"),
            allowed_channel_ids=env.ids("ALLOWED_CHANNEL_IDS"),
            allowed_user_ids=env.ids("ALLOWED_USER_IDS"),
            blocked_channel_ids=env.ids("BLOCKED_CHANNEL_IDS"),
            allow_external_teams=env.flag("ALLOW_EXTERNAL_TEAMS"),
            home_team_id=env.text("SLACK_TEAM_ID"),
            reviewers=_reviewer_ids(env),
        )

    def admits(
        self,
        *,
        team_id: str,
        asker_team_id: str,
        home_team_ids: Set[str],
        channel: str,
        user_id: str,
    ) -> Admission:
        """Whether a question may be queued. `team_id` is the team the request was delivered
        for, `asker_team_id` the asker's own team (or enterprise), `home_team_ids` the teams
        and enterprises the payload names as the app's installation.

        The asker is external when their team is none of the installation's (nor
        `home_team_id`) and not listed in `allowed_team_ids`; when nothing names the
        installation, the asker cannot be told apart and is not taken to be external. Both
        the delivery's team and the asker's must pass `allowed_team_ids`; each allowlist is
        optional (empty allows everyone). A channel in `blocked_channel_ids` is refused.
        """
        homes = set(home_team_ids) | ({self.home_team_id} if self.home_team_id else set())
        asker_team = asker_team_id or team_id
        external = bool(homes) and asker_team not in homes | self.allowed_team_ids
        blocked = channel in self.blocked_channel_ids
        admitted = not blocked and (not external or self.allow_external_teams) and all(
            not allowed or value in allowed
            for allowed, value in (
                (self.allowed_team_ids, team_id),
                (self.allowed_team_ids, asker_team),
                (self.allowed_channel_ids, channel),
                (self.allowed_user_ids, user_id),
            )
        )
        if admitted:
            return Admission.ADMITTED
        return Admission.EXTERNAL if external else Admission.REFUSED

    def with_secrets(self, *, client: Any = None) -> SlackConfig:
        """These settings with the credentials filled in from Secrets Manager when
        `SLACK_SECRET_ARN` is set and the environment does not already carry them."""
        if self.secret_arn is None or (self.signing_secret and self.bot_token):
            return self
        secret = read_json_secret(self.secret_arn, client=client)
        return replace(
            self,
            signing_secret=self.signing_secret or _text(secret, "SLACK_SIGNING_SECRET"),
            bot_token=self.bot_token or _text(secret, "SLACK_BOT_TOKEN"),
        )

    def resolved_bot_token(self) -> str | None:
        """SLACK_BOT_TOKEN, or the token in the Secrets Manager secret SLACK_SECRET_ARN
        (None when neither is set)."""
        if self.bot_token or not self.secret_arn:
            return self.bot_token
        token = self.with_secrets().bot_token
        if not token:
            raise ConfigError(f"secret {self.secret_arn} has no SLACK_BOT_TOKEN")
        return token

    def require(self, *, signing_secret: bool = False) -> None:
        """Raise ConfigError unless the bot token (and the signing secret) are set."""
        require({
            **({"SLACK_SIGNING_SECRET (or SLACK_SECRET_ARN)": self.signing_secret}
               if signing_secret else {}),
            "SLACK_BOT_TOKEN (or SLACK_SECRET_ARN)": self.bot_token,
        })


def _reviewer_ids(env: Env) -> frozenset[str]:
    ids = env.ids("VERIFIED_REVIEWERS")
    wrong = sorted(i for i in ids if not i.startswith(REVIEWER_ID_PREFIXES))
    if wrong:
        raise ConfigError("VERIFIED_REVIEWERS holds Slack user ids (U…, W…) and user-group "
                          f"ids (S…), not {', '.join(wrong)}")
    return ids


def _text(secret: dict[str, Any], key: str) -> str | None:
    value = secret.get(key)
    return value if isinstance(value, str) else None
