"""Bot Framework token validation against a local OpenID metadata and key set endpoint."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from bot.teams.auth import (
    KeysUnavailable,
    SigningKeys,
    TokenValidator,
    Unauthorized,
    check_service_url,
)
from bot.teams.local_keys import LocalSigningKey
from tests.support.teams_auth import APP_ID, KeyEndpoint

SERVICE_URL = "https://smba.trafficmanager.net/emea/"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def validator(endpoint: KeyEndpoint, clock: Clock | None = None) -> TokenValidator:
    keys = SigningKeys(endpoint.metadata_url, clock=clock or Clock())
    return TokenValidator(APP_ID, keys)


def bearer(token: str) -> str:
    return f"Bearer {token}"


def test_a_token_bot_framework_signed_for_this_bot_is_accepted(
    key_endpoint: KeyEndpoint,
) -> None:
    claims = validator(key_endpoint).claims(bearer(key_endpoint.token(SERVICE_URL)))

    assert (claims["aud"], claims["serviceurl"]) == (APP_ID, SERVICE_URL)
    check_service_url(claims, SERVICE_URL)


@pytest.mark.parametrize(
    ("authorization", "why"),
    [
        (None, "no Bearer token"),
        ("", "no Bearer token"),
        ("Basic dXNlcjpwYXNz", "no Bearer token"),
        ("Bearer ", "no Bearer token"),
        ("Bearer not-a-jwt", "unreadable token"),
    ],
)
def test_requests_without_a_readable_bearer_token_are_refused(
    key_endpoint: KeyEndpoint, authorization: str | None, why: str
) -> None:
    with pytest.raises(Unauthorized, match=why):
        validator(key_endpoint).claims(authorization)
    assert key_endpoint.fetches == []  # refused before any key was fetched


def test_a_token_signed_with_another_key_under_a_known_kid_is_refused(
    key_endpoint: KeyEndpoint,
) -> None:
    # GIVEN a token signed by someone else's key that claims Bot Framework's key id
    forged = LocalSigningKey(key_endpoint.key.kid, LocalSigningKey.generate().private_pem)
    token = forged.token(app_id=APP_ID, service_url=SERVICE_URL)

    with pytest.raises(Unauthorized, match="Signature verification failed"):
        validator(key_endpoint).claims(bearer(token))


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"issuer": "https://sts.windows.net/evil/"}, "Invalid issuer"),
        ({"app_id": "another-bot"}, "Audience doesn't match"),
        ({"now": time.time() - 3600 - 301}, "Signature has expired"),
    ],
)
def test_wrong_issuer_audience_or_expired_tokens_are_refused(
    key_endpoint: KeyEndpoint, claims: dict[str, Any], why: str
) -> None:
    with pytest.raises(Unauthorized, match=why):
        validator(key_endpoint).claims(bearer(key_endpoint.token(SERVICE_URL, **claims)))


def test_a_token_expired_within_five_minutes_is_still_accepted(
    key_endpoint: KeyEndpoint,
) -> None:
    # GIVEN a token that expired four minutes ago (clocks may differ by five)
    token = key_endpoint.token(SERVICE_URL, now=time.time() - 3600 - 240)

    assert validator(key_endpoint).claims(bearer(token))["aud"] == APP_ID


def test_an_unsigned_or_symmetric_token_is_refused(key_endpoint: KeyEndpoint) -> None:
    payload = {"iss": "https://api.botframework.com", "aud": APP_ID,
               "exp": int(time.time()) + 600, "serviceurl": SERVICE_URL}
    for token in (
        jwt.encode(payload, None, algorithm="none", headers={"kid": key_endpoint.key.kid}),
        jwt.encode(payload, "shared-secret-of-32-bytes-or-more!", algorithm="HS256",
                   headers={"kid": key_endpoint.key.kid}),
    ):
        with pytest.raises(Unauthorized, match="algorithm"):
            validator(key_endpoint).claims(bearer(token))


def test_a_token_for_another_service_url_is_refused(key_endpoint: KeyEndpoint) -> None:
    claims = validator(key_endpoint).claims(
        bearer(key_endpoint.token("https://evil.example.com/")))

    with pytest.raises(Unauthorized, match="serviceurl"):
        check_service_url(claims, SERVICE_URL)


def test_a_key_not_endorsed_for_teams_is_refused(key_endpoint: KeyEndpoint) -> None:
    key_endpoint.published = [key_endpoint.key.jwk(endorsements=("webchat", "skype"))]

    with pytest.raises(Unauthorized, match="not endorsed for msteams"):
        validator(key_endpoint).claims(bearer(key_endpoint.token(SERVICE_URL)))


def test_a_key_listing_no_endorsements_is_accepted(key_endpoint: KeyEndpoint) -> None:
    key_endpoint.published = [key_endpoint.key.jwk(endorsements=None)]

    assert validator(key_endpoint).claims(bearer(key_endpoint.token(SERVICE_URL)))


def test_keys_are_fetched_once_and_kept_across_requests(key_endpoint: KeyEndpoint) -> None:
    checker = validator(key_endpoint)

    for _ in range(3):
        checker.claims(bearer(key_endpoint.token(SERVICE_URL)))

    assert key_endpoint.fetches == ["/v1/.well-known/openidconfiguration", "/keys"]


def test_a_rotated_key_is_picked_up_by_refreshing_on_its_unknown_kid(
    key_endpoint: KeyEndpoint,
) -> None:
    # GIVEN keys cached a while ago, then Bot Framework signing with a new key
    clock = Clock()
    checker = validator(key_endpoint, clock)
    checker.claims(bearer(key_endpoint.token(SERVICE_URL)))
    new_key = key_endpoint.rotate()
    clock.now += 61

    # WHEN a token with the new kid arrives
    claims = checker.claims(bearer(key_endpoint.token(SERVICE_URL)))

    # THEN the keys were fetched again and the token accepted
    assert claims["aud"] == APP_ID
    assert len(key_endpoint.fetches) == 4
    assert new_key.kid == "key-2"


def test_unknown_kids_refresh_the_keys_at_most_once_a_minute(
    key_endpoint: KeyEndpoint,
) -> None:
    # GIVEN cached keys
    clock = Clock()
    checker = validator(key_endpoint, clock)
    checker.claims(bearer(key_endpoint.token(SERVICE_URL)))
    stranger = LocalSigningKey("made-up", key_endpoint.key.private_pem)

    # WHEN a flood of tokens names a key id Bot Framework never published
    for _ in range(20):
        with pytest.raises(Unauthorized, match="unknown signing key 'made-up'"):
            checker.claims(bearer(stranger.token(app_id=APP_ID, service_url=SERVICE_URL)))
    clock.now += 61
    with pytest.raises(Unauthorized, match="unknown signing key"):
        checker.claims(bearer(stranger.token(app_id=APP_ID, service_url=SERVICE_URL)))

    # THEN the endpoint was asked again only once the minute had passed
    assert len(key_endpoint.fetches) == 4


def test_keys_older_than_a_day_are_refreshed(key_endpoint: KeyEndpoint) -> None:
    clock = Clock()
    checker = validator(key_endpoint, clock)
    checker.claims(bearer(key_endpoint.token(SERVICE_URL)))
    clock.now += SigningKeys.MAX_AGE_S + 1

    checker.claims(bearer(key_endpoint.token(SERVICE_URL)))

    assert len(key_endpoint.fetches) == 4


def test_an_unreachable_key_endpoint_is_unavailable_not_unauthorized() -> None:
    # GIVEN no server behind the metadata URL and no cached keys
    checker = TokenValidator(APP_ID, SigningKeys("http://127.0.0.1:9/openid", clock=Clock()))
    token = LocalSigningKey.generate("k").token(app_id=APP_ID, service_url=SERVICE_URL)

    # THEN the request can be retried later, and the next one within the minute too
    for _ in range(2):
        with pytest.raises(KeysUnavailable):
            checker.claims(bearer(token))


def test_cached_keys_keep_serving_when_a_refresh_fails(key_endpoint: KeyEndpoint) -> None:
    calls: list[str] = []
    documents = {"meta": {"jwks_uri": "keys"}, "keys": {"keys": [key_endpoint.key.jwk()]}}

    def fetch(url: str) -> Any:
        calls.append(url)
        if len(calls) > 2:
            raise KeysUnavailable("down")
        return documents[url]

    clock = Clock()
    checker = TokenValidator(APP_ID, SigningKeys("meta", fetch=fetch, clock=clock))
    checker.claims(bearer(key_endpoint.token(SERVICE_URL)))
    clock.now += SigningKeys.MAX_AGE_S + 1

    assert checker.claims(bearer(key_endpoint.token(SERVICE_URL)))["aud"] == APP_ID
    assert calls == ["meta", "keys", "meta"]
