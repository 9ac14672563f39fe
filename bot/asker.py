"""Who asked a question, wherever it was asked: what spend limits, the warehouse identity
and the audit trail key on."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.job import Job


@dataclass(frozen=True)
class Asker:
    # "slack", "teams", "api", or "cli" for a command run in a terminal.
    platform: str
    # The platform's id of the person (Slack U…, Teams AAD object or Bot Framework id;
    # the operating-system user for the CLI).
    user: str
    # Slack's team id, Teams' tenant id; None where the platform has none.
    workspace: str | None = None
    # Slack's channel, Teams' conversation; None for the HTTP API and the CLI.
    channel: str | None = None

    @classmethod
    def local(cls) -> Asker:
        """The person at this terminal (the CLI), by operating-system user name."""
        try:
            user = getpass.getuser()
        except (KeyError, OSError):  # no login name and no passwd entry (some containers)
            user = "unknown"
        return cls(platform="cli", user=user)

    @classmethod
    def of_job(cls, job: Job) -> Asker:
        reply_to = job.reply_to
        return cls(
            platform=job.source,
            user=job.user_id,
            workspace=reply_to.team_id or reply_to.tenant_id,
            channel=reply_to.channel or reply_to.conversation_id,
        )
