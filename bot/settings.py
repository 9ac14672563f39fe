"""The ingress Lambdas' settings (Slack events and the prompt API), read from the environment
in this one place.

Slack credentials come from `SLACK_SIGNING_SECRET` / `SLACK_BOT_TOKEN`, or, in AWS, from the
Secrets Manager secret named by `SLACK_SECRET_ARN`: a JSON object with those same two keys.
The secret is fetched by `with_slack_secrets`, which the Slack handler calls once per
container, never at import time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Set
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

import boto3

DEFAULT_SLACK_API_URL = "https://slack.com/api/"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it."""


class Admission(Enum):
    """Whether the allowlists let a question through, and if not, whether the asker is
    from another organisation (their refusal is not posted where others can see)."""

    ADMITTED = "admitted"
    REFUSED = "refused"
    EXTERNAL = "external"


@dataclass(frozen=True)
class IngressSettings:
    signing_secret: str | None = field(default=None, repr=False)
    bot_token: str | None = field(default=None, repr=False)
    slack_secret_arn: str | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    jobs_queue_url: str | None = None
    idempotency_table: str | None = None
    jobs_table: str | None = None
    slash_command: str = "/ask"
    max_question_chars: int = 4000
    max_body_bytes: int = 16 * 1024
    # Slack retries for about five minutes; an hour covers them with room to spare.
    idempotency_ttl_s: int = 3600
    # A claim older than this is taken to be from an invocation that died (Lambda timeout).
    in_progress_expiry_s: int = 30
    job_ttl_days: int = 30
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
    slack_team_id: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> IngressSettings:
        env = os.environ if env is None else env
        defaults = cls()
        slash_command = env.get("SLASH_COMMAND") or defaults.slash_command
        return cls(
            signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
            bot_token=env.get("SLACK_BOT_TOKEN") or None,
            slack_secret_arn=env.get("SLACK_SECRET_ARN") or None,
            slack_api_url=env.get("SLACK_API_URL") or defaults.slack_api_url,
            jobs_queue_url=env.get("JOBS_QUEUE_URL") or None,
            idempotency_table=env.get("IDEMPOTENCY_TABLE") or None,
            jobs_table=env.get("JOBS_TABLE") or None,
            slash_command=slash_command if slash_command.startswith("/") else f"/{slash_command}",
            max_question_chars=_positive_int(
                env, "MAX_QUESTION_CHARS", defaults.max_question_chars
            ),
            max_body_bytes=_positive_int(env, "MAX_BODY_BYTES", defaults.max_body_bytes),
            idempotency_ttl_s=_positive_int(env, "IDEMPOTENCY_TTL_S", defaults.idempotency_ttl_s),
            in_progress_expiry_s=_positive_int(
                env, "IN_PROGRESS_EXPIRY_S", defaults.in_progress_expiry_s
            ),
            job_ttl_days=_positive_int(env, "JOB_TTL_DAYS", defaults.job_ttl_days),
            allowed_team_ids=_id_set(env.get("ALLOWED_TEAM_IDS")),
            allowed_channel_ids=_id_set(env.get("ALLOWED_CHANNEL_IDS")),
            allowed_user_ids=_id_set(env.get("ALLOWED_USER_IDS")),
            blocked_channel_ids=_id_set(env.get("BLOCKED_CHANNEL_IDS")),
            allow_external_teams=_flag(env, "ALLOW_EXTERNAL_TEAMS"),
            slack_team_id=env.get("SLACK_TEAM_ID") or None,
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
        `slack_team_id`) and not listed in `allowed_team_ids`; when nothing names the
        installation, the asker cannot be told apart and is not taken to be external. Both
        the delivery's team and the asker's must pass `allowed_team_ids`; each allowlist is
        optional (empty allows everyone). A channel in `blocked_channel_ids` is refused.
        """
        homes = set(home_team_ids) | ({self.slack_team_id} if self.slack_team_id else set())
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

    def with_slack_secrets(self, *, client: Any = None) -> IngressSettings:
        """These settings with the Slack credentials filled in from Secrets Manager when
        `SLACK_SECRET_ARN` is set and the environment does not already carry them."""
        if self.slack_secret_arn is None or (self.signing_secret and self.bot_token):
            return self
        secret = fetch_slack_secret(self.slack_secret_arn, client=client)
        return replace(
            self,
            signing_secret=self.signing_secret or secret.get("SLACK_SIGNING_SECRET"),
            bot_token=self.bot_token or secret.get("SLACK_BOT_TOKEN"),
        )

    def require(self, *names: str) -> None:
        """Raise SettingsError naming every one of `names` that is not set."""
        missing = [name for name in names if not getattr(self, name)]
        if missing:
            env_names = ", ".join(_ENV_NAMES.get(name, name.upper()) for name in missing)
            raise SettingsError(f"missing settings: {env_names}")


_ENV_NAMES = {
    "signing_secret": "SLACK_SIGNING_SECRET (or SLACK_SECRET_ARN)",
    "bot_token": "SLACK_BOT_TOKEN (or SLACK_SECRET_ARN)",
}


def fetch_slack_secret(secret_arn: str, *, client: Any = None) -> dict[str, str]:
    """The Slack credentials stored in Secrets Manager as a JSON object with the keys
    SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN."""
    client = client or boto3.client("secretsmanager")
    raw = client.get_secret_value(SecretId=secret_arn)["SecretString"]
    try:
        secret = json.loads(raw)
    except ValueError:
        # `from None`: the decoder's message could quote part of the secret.
        raise SettingsError(f"secret {secret_arn} is not a JSON object") from None
    if not isinstance(secret, dict):
        raise SettingsError(f"secret {secret_arn} is not a JSON object")
    return {key: value for key, value in secret.items() if isinstance(value, str)}


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a positive integer, got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be a positive integer, got {raw!r}")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw in ("", "false", "0", "no"):
        return False
    if raw in ("true", "1", "yes"):
        return True
    raise SettingsError(f"{name} must be true or false, got {env.get(name)!r}")


def _id_set(value: str | None) -> frozenset[str]:
    return frozenset(part.strip() for part in (value or "").split(",") if part.strip())
