"""Is this request from Bot Framework? The Bearer token of every activity, checked as Bot
Framework requires of a bot that does its own authentication.

The token must be an RS256 JWT signed with a key from Bot Framework's OpenID metadata (its
`jwks_uri`; a key that lists `endorsements` must be endorsed for `msteams`), issued by
`https://api.botframework.com` for the bot's app id, unexpired (five minutes of clock skew
allowed), and its `serviceurl` claim must be the activity's `serviceUrl`: the worker sends
the bot's own token to that URL, so an activity cannot point it elsewhere.

The keys are fetched on the first request and kept for the container's life (a warm Lambda
reuses them). A token naming a key not in the cache refreshes them, at most once per
`refresh_interval_s`, so a flood of made-up key ids cannot hammer the endpoint; they are
also refreshed when older than a day. Fetches use urllib with a short timeout.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from bot.teams.config import CHANNEL_ID, TOKEN_ISSUER

ALGORITHM = "RS256"
CLOCK_SKEW_S = 5 * 60
FETCH_TIMEOUT_S = 3.0
MAX_DOCUMENT_BYTES = 1024 * 1024

FetchJson = Callable[[str], Any]


class Unauthorized(Exception):
    """The request is not from Bot Framework for this bot; the message says why (for the log,
    never for the caller)."""


class KeysUnavailable(RuntimeError):
    """Bot Framework's signing keys could not be fetched and none are cached."""


def fetch_json(url: str) -> Any:
    """The JSON document at `url` (http or https only), read with a short timeout."""
    if not url.startswith(("https://", "http://")):
        raise KeysUnavailable(f"not an http(s) URL: {url!r}")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_S) as response:
            return json.loads(response.read(MAX_DOCUMENT_BYTES))
    except (OSError, ValueError) as e:
        raise KeysUnavailable(f"fetching {url}: {e}") from e


@dataclass(frozen=True)
class SigningKey:
    key: Any  # the public key PyJWT verifies with
    endorsements: tuple[str, ...] | None  # None: the key lists none


class SigningKeys:
    """Bot Framework's public keys by key id, from the OpenID metadata at `metadata_url`."""

    MAX_AGE_S = 24 * 3600

    def __init__(
        self,
        metadata_url: str,
        *,
        fetch: FetchJson = fetch_json,
        clock: Callable[[], float] = time.monotonic,
        refresh_interval_s: float = 60.0,
    ) -> None:
        self._metadata_url = metadata_url
        self._fetch = fetch
        self._clock = clock
        self._refresh_interval_s = refresh_interval_s
        self._keys: dict[str, SigningKey] = {}
        self._loaded_at: float | None = None
        self._tried_at: float | None = None
        self._lock = threading.Lock()

    def get(self, kid: str) -> SigningKey | None:
        """The key named `kid`, refreshing the set when it is unknown or old (rate-limited)."""
        with self._lock:
            now = self._clock()
            stale = self._loaded_at is None or now - self._loaded_at > self.MAX_AGE_S
            if (kid not in self._keys or stale) and self._may_try(now):
                self._refresh(now)
            elif not self._keys:
                raise KeysUnavailable("no signing keys yet; the last fetch failed")
            return self._keys.get(kid)

    def _may_try(self, now: float) -> bool:
        return self._tried_at is None or now - self._tried_at >= self._refresh_interval_s

    def _refresh(self, now: float) -> None:
        self._tried_at = now
        try:
            metadata = self._fetch(self._metadata_url)
            jwks_uri = metadata.get("jwks_uri") if isinstance(metadata, dict) else None
            if not isinstance(jwks_uri, str):
                raise KeysUnavailable(f"{self._metadata_url} names no jwks_uri")
            keys = _signing_keys(self._fetch(jwks_uri))
        except KeysUnavailable:
            if not self._keys:
                raise
            return  # the cached keys still serve; tried again after the interval
        self._keys, self._loaded_at = keys, now


def _signing_keys(jwks: Any) -> dict[str, SigningKey]:
    found: dict[str, SigningKey] = {}
    for data in (jwks.get("keys") if isinstance(jwks, dict) else None) or []:
        if not isinstance(data, dict) or not isinstance(data.get("kid"), str):
            continue
        try:
            key = jwt.PyJWK(data, algorithm=ALGORITHM).key
        except jwt.PyJWTError:
            continue  # a key of a kind this bot does not verify with
        endorsements = data.get("endorsements")
        found[data["kid"]] = SigningKey(
            key, tuple(map(str, endorsements)) if isinstance(endorsements, list) else None
        )
    if not found:
        raise KeysUnavailable("the key set holds no RSA signing key")
    return found


class TokenValidator:
    """Checks an activity's Authorization header for the bot `app_id`."""

    def __init__(self, app_id: str, keys: SigningKeys) -> None:
        self._app_id = app_id
        self._keys = keys

    def claims(self, authorization: str | None) -> Mapping[str, Any]:
        """The token's verified claims. Unauthorized unless it is a Bearer token Bot
        Framework signed for this bot and still valid; KeysUnavailable when no key can be
        had to check it with."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("no Bearer token")
        try:
            header = jwt.get_unverified_header(token.strip())
        except jwt.PyJWTError as e:
            raise Unauthorized(f"unreadable token: {e}") from None
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM or not isinstance(kid, str):
            raise Unauthorized(f"token algorithm {header.get('alg')!r} or key id unusable")
        key = self._keys.get(kid)
        if key is None:
            raise Unauthorized(f"unknown signing key {kid!r}")
        if key.endorsements is not None and CHANNEL_ID not in key.endorsements:
            raise Unauthorized(f"key {kid!r} is not endorsed for {CHANNEL_ID}")
        try:
            return jwt.decode(
                token.strip(), key.key, algorithms=[ALGORITHM], audience=self._app_id,
                issuer=TOKEN_ISSUER, leeway=CLOCK_SKEW_S,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as e:
            raise Unauthorized(f"token refused: {e}") from None


def check_service_url(claims: Mapping[str, Any], service_url: str) -> None:
    """Unauthorized unless the token was issued for the activity's `serviceUrl`."""
    if claims.get("serviceurl") != service_url:
        raise Unauthorized("the token's serviceurl is not the activity's serviceUrl")
