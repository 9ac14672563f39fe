"""Who may verify answers and retire verified entries: `VERIFIED_REVIEWERS`.

The setting lists Slack user ids (U…, W…) and user-group ids (S…). A group's members are
read with usergroups.users.list (scope `usergroups:read`) and kept for `ttl_s` in this
process, so a warm Lambda asks Slack at most once per group every few minutes and a click
by a listed person costs no call at all. A group Slack cannot list admits nobody (and is
not kept, so the next click asks again).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.observability import service_logger

logger = service_logger()

GROUP_TTL_S = 300.0


def is_user_group(slack_id: str) -> bool:
    return slack_id.startswith("S")


class Reviewers:
    def __init__(
        self,
        ids: frozenset[str],
        *,
        ttl_s: float = GROUP_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._users = frozenset(i for i in ids if not is_user_group(i))
        self._groups = sorted(i for i in ids if is_user_group(i))
        self._ttl_s = ttl_s
        self._clock = clock
        self._members: dict[str, tuple[float, frozenset[str]]] = {}

    def include(self, user_id: str, client: WebClient) -> bool:
        """Whether `user_id` is a reviewer: listed, or a member of a listed group."""
        if user_id in self._users:
            return True
        return any(user_id in self._members_of(group, client) for group in self._groups)

    def _members_of(self, group: str, client: WebClient) -> frozenset[str]:
        now = self._clock()
        kept = self._members.get(group)
        if kept is not None and now - kept[0] < self._ttl_s:
            return kept[1]
        try:
            users = client.usergroups_users_list(usergroup=group).get("users") or []
        except SlackApiError as e:
            logger.warning("usergroup=<%s> | reviewers not read: %s", group, e)
            return frozenset()
        members = frozenset(str(user) for user in users)
        self._members[group] = (now, members)
        return members
