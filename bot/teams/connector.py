"""The Bot Connector API as the worker reaches it: the bot's token, and sending, updating and
deleting activities in a conversation. Synchronous (the worker runs each job on a thread of
its own) and standard library only.

- The token comes by OAuth client credentials (the app id and password) from the token
  endpoint, with the scope `https://api.botframework.com/.default`, and is kept until
  shortly before it expires; one fetch at a time, whatever the number of threads.
- The token goes to the activity's `serviceUrl`, which arrives in the activity a person's
  message started: a URL whose host is not one of `TEAMS_SERVICE_URL_HOSTS` is refused
  (`Unreachable`) before any request, so the token never leaves for a host not listed.
- 429 waits what `Retry-After` says, 5xx and broken connections back off; when they keep
  failing, `Unavailable` (the job is tried again later). 403 and 404 mean the bot is not in
  the conversation (removed, chat deleted): `Unreachable`. A 401 fetches a new token once.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Set
from dataclasses import dataclass, field
from typing import Any

from bot.delivery import DeliveryError, Unavailable, Unreachable
from bot.observability import service_logger
from bot.teams.messages import Activity

logger = service_logger()

SCOPE = "https://api.botframework.com/.default"
# A token is renewed this long before it expires, so none expires on its way.
TOKEN_MARGIN_S = 300
TIMEOUT_S = 15.0
ATTEMPTS = 4
BACKOFF_BASE_S = 0.5
# The longest Retry-After honoured in place; a longer one is the queue's to wait out.
MAX_RETRY_AFTER_S = 30.0
# Hosts a test stand-in may use over plain HTTP; every other service URL must be https.
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Credentials:
    app_id: str
    password: str = field(repr=False)
    token_url: str


class AppToken:
    """The bot's Bot Connector token, fetched by client credentials and cached until
    TOKEN_MARGIN_S before it expires. Safe to share between threads."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        clock: Callable[[], float] = time.time,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        self._credentials = credentials
        self._clock = clock
        self._timeout_s = timeout_s
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0

    def get(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._renew_at:
                self._token, lifetime = self._fetch()
                self._renew_at = self._clock() + max(lifetime - TOKEN_MARGIN_S, 0)
            return self._token

    def forget(self, token: str) -> None:
        """Drop `token` (the connector refused it), so the next `get` fetches a new one."""
        with self._lock:
            if self._token == token:
                self._token = None

    def _fetch(self) -> tuple[str, float]:
        body = urllib.parse.urlencode({
            "grant_type": "client_credentials",
            "client_id": self._credentials.app_id,
            "client_secret": self._credentials.password,
            "scope": SCOPE,
        }).encode()
        request = urllib.request.Request(
            self._credentials.token_url, data=body, method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as response:
                data = json.loads(response.read())
        except urllib.error.HTTPError as e:
            # The endpoint's error text is not logged: it can echo what was sent.
            if e.code == 429 or e.code >= 500:
                raise Unavailable(f"the Teams token endpoint answered {e.code}") from None
            raise DeliveryError(f"the Teams token endpoint refused the app's credentials "
                                f"({e.code})", error=str(e.code)) from None
        except (urllib.error.URLError, OSError, ValueError) as e:
            raise Unavailable(f"no Teams token: {type(e).__name__}") from None
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise DeliveryError("the Teams token endpoint answered without a token")
        lifetime = data.get("expires_in", 3600)
        return token, float(lifetime) if isinstance(lifetime, int | float | str) else 3600.0


class Connector:
    """Activities in Teams conversations, through the Bot Connector at each conversation's
    service URL (when its host is allowed)."""

    def __init__(
        self,
        token: AppToken,
        allowed_hosts: Set[str],
        *,
        timeout_s: float = TIMEOUT_S,
        attempts: int = ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._token = token
        self._allowed_hosts = frozenset(host.lower() for host in allowed_hosts)
        self._timeout_s = timeout_s
        self._attempts = attempts
        self._sleep = sleep

    def send(self, service_url: str, conversation_id: str, activity: Activity,
             *, reply_to_id: str | None = None) -> str:
        """Post `activity` into the conversation (replying to `reply_to_id`, when given);
        its id."""
        path = _activities(conversation_id)
        if reply_to_id:
            path += "/" + urllib.parse.quote(reply_to_id, safe="")
        answer = self._call("POST", service_url, path, activity)
        return str(answer.get("id") or "")

    def update(self, service_url: str, conversation_id: str, activity_id: str,
               activity: Activity) -> None:
        self._call("PUT", service_url,
                   f"{_activities(conversation_id)}/{urllib.parse.quote(activity_id, safe='')}",
                   {**activity, "id": activity_id})

    def delete(self, service_url: str, conversation_id: str, activity_id: str) -> None:
        self._call("DELETE", service_url,
                   f"{_activities(conversation_id)}/{urllib.parse.quote(activity_id, safe='')}")

    def member(self, service_url: str, conversation_id: str, member_id: str) -> dict[str, Any]:
        """One member of the conversation's roster (a Teams AAD object id or channel id)."""
        quote = urllib.parse.quote
        return self._call("GET", service_url, f"/v3/conversations/{quote(conversation_id, safe='')}"
                                              f"/members/{quote(member_id, safe='')}")

    def check(self, service_url: str) -> str:
        """The service URL's base (no trailing slash) when its host may receive the bot's
        token; else Unreachable."""
        parts = urllib.parse.urlsplit(service_url)
        host = (parts.hostname or "").lower()
        secure = parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK)
        if not secure or host not in self._allowed_hosts:
            raise Unreachable(f"the service URL's host {host or service_url!r} is not one of "
                              "TEAMS_SERVICE_URL_HOSTS: nothing sent", error="service_url")
        return service_url.rstrip("/")

    def _call(self, method: str, service_url: str, path: str,
              body: Activity | None = None) -> dict[str, Any]:
        url = self.check(service_url) + path
        data = json.dumps(body).encode() if body is not None else None
        renewed = False
        for attempt in range(1, self._attempts + 1):
            token = self._token.get()
            request = urllib.request.Request(url, data=data, method=method, headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json; charset=utf-8",
            })
            try:
                with urllib.request.urlopen(request, timeout=self._timeout_s) as response:
                    raw = response.read()
                    return json.loads(raw) if raw.strip() else {}
            except urllib.error.HTTPError as e:
                status, wait = e.code, _retry_after(e.headers.get("Retry-After"))
                error = _error_code(e)
            except (urllib.error.URLError, OSError) as e:
                status, wait, error = 0, None, type(e).__name__
            except ValueError:
                # The activity went through; only its echo was unreadable.
                return {}
            if status == 401 and not renewed:
                self._token.forget(token)
                renewed = True
                continue
            if status in (403, 404):
                raise Unreachable(f"the bot cannot write to this conversation ({status} "
                                  f"{error})", error=error)
            if status and status != 429 and status < 500:
                raise DeliveryError(f"the Bot Connector refused the {method} ({status} "
                                    f"{error})", error=error)
            if attempt == self._attempts or (wait is not None and wait > MAX_RETRY_AFTER_S):
                raise Unavailable(f"the Bot Connector keeps failing ({status or error})",
                                  error=error)
            pause = wait if wait is not None else BACKOFF_BASE_S * 2 ** (attempt - 1)
            logger.warning("Bot Connector %s answered %s: trying again in %.1f s", method,
                           status or error, pause)
            self._sleep(pause)
        raise AssertionError("unreachable: the last attempt returns or raises")


def _activities(conversation_id: str) -> str:
    return f"/v3/conversations/{urllib.parse.quote(conversation_id, safe='')}/activities"


def _retry_after(value: str | None) -> float | None:
    try:
        return max(float(value), 0.0) if value else None
    except ValueError:
        return None


def _error_code(error: urllib.error.HTTPError) -> str:
    """The Bot Connector's error code ({"error": {"code": ...}}), else the HTTP status."""
    try:
        data = json.loads(error.read() or b"{}")
        code = data.get("error", {}).get("code") if isinstance(data, dict) else None
    except (ValueError, AttributeError, OSError):
        code = None
    return code if isinstance(code, str) and code else str(error.code)
