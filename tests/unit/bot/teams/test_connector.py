"""The Bot Connector client against the local stand-in: the token by client credentials and
its cache, the service URL allow-list, retries on 429 and 5xx, and the errors it maps to."""

from __future__ import annotations

import logging
import threading

import pytest

from bot.delivery import DeliveryError, Unavailable, Unreachable
from bot.teams.connector import SCOPE, TOKEN_MARGIN_S, AppToken, Connector, Credentials
from tests.support.teams_connector import APP_ID, APP_PASSWORD, TeamsConnectorStandIn

CONVERSATION = "19:abc@thread.tacv2;messageid=1700000000000"
MESSAGE = {"type": "message", "text": "hello"}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def connector_for(stand_in: TeamsConnectorStandIn, *, clock: Clock | None = None,
                  hosts: frozenset[str] = frozenset({"127.0.0.1"}),
                  sleeps: list[float] | None = None) -> Connector:
    token = AppToken(Credentials(APP_ID, APP_PASSWORD, stand_in.token_url),
                     clock=clock or Clock())
    pauses = sleeps if sleeps is not None else []
    return Connector(token, hosts, sleep=pauses.append)


def test_a_message_is_sent_with_a_client_credentials_token(
    teams_connector: TeamsConnectorStandIn,
) -> None:
    connector = connector_for(teams_connector)
    # WHEN a reply is sent to a channel thread's message
    activity_id = connector.send(teams_connector.url, CONVERSATION, MESSAGE, reply_to_id="42")
    # THEN the token came by client credentials for the Bot Framework scope
    token_call, post = teams_connector.calls
    assert "grant_type=client_credentials" in token_call.body
    assert f"scope={SCOPE.replace(':', '%3A').replace('/', '%2F')}" in token_call.body
    # AND the reply went to the thread's conversation, replying to the message, with it
    assert post.method == "POST" and post.conversation == CONVERSATION
    assert post.path.endswith("/activities/42")
    assert post.headers["authorization"] == "Bearer token-1"
    assert teams_connector.activities[activity_id].body == MESSAGE


def test_the_token_is_reused_until_shortly_before_it_expires(
    teams_connector: TeamsConnectorStandIn,
) -> None:
    clock = Clock()
    connector = connector_for(teams_connector, clock=clock)
    connector.send(teams_connector.url, CONVERSATION, MESSAGE)
    # WHEN more messages go out within the token's life (less the margin)
    clock.now += 3600 - TOKEN_MARGIN_S - 1
    connector.send(teams_connector.url, CONVERSATION, MESSAGE)
    assert teams_connector.tokens_issued == 1
    # THEN once within the margin of its expiry, a new token is fetched
    clock.now += 2
    connector.send(teams_connector.url, CONVERSATION, MESSAGE)
    assert teams_connector.tokens_issued == 2


def test_threads_share_one_token_fetch(teams_connector: TeamsConnectorStandIn) -> None:
    connector = connector_for(teams_connector)
    threads = [threading.Thread(target=connector.send,
                                args=(teams_connector.url, CONVERSATION, MESSAGE))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert teams_connector.tokens_issued == 1
    assert len(teams_connector.connector_calls("POST")) == 8


@pytest.mark.parametrize("service_url", [
    "https://evil.example.com/amer/",
    "https://smba.trafficmanager.net.evil.example.com/",
    "http://smba.trafficmanager.net/amer/",  # the token would travel in clear text
    "not a url",
])
def test_a_service_url_outside_the_allow_list_is_never_called(
    teams_connector: TeamsConnectorStandIn, service_url: str,
) -> None:
    connector = connector_for(teams_connector,
                              hosts=frozenset({"smba.trafficmanager.net", "127.0.0.1"}))
    with pytest.raises(Unreachable, match="TEAMS_SERVICE_URL_HOSTS"):
        connector.send(service_url, CONVERSATION, MESSAGE)
    # Not even the token was fetched: nothing went anywhere.
    assert teams_connector.calls == []


def test_the_stand_in_itself_is_refused_when_not_listed(
    teams_connector: TeamsConnectorStandIn,
) -> None:
    connector = connector_for(teams_connector, hosts=frozenset({"smba.trafficmanager.net"}))
    with pytest.raises(Unreachable):
        connector.update(teams_connector.url, CONVERSATION, "1", MESSAGE)
    assert teams_connector.calls == []


def test_a_429_waits_for_retry_after(teams_connector: TeamsConnectorStandIn) -> None:
    sleeps: list[float] = []
    connector = connector_for(teams_connector, sleeps=sleeps)
    teams_connector.fail_next("POST", status=429, retry_after=2)
    connector.send(teams_connector.url, CONVERSATION, MESSAGE)
    assert sleeps == [2.0]
    assert len(teams_connector.connector_calls("POST")) == 2
    assert len(teams_connector.activities) == 1


def test_5xx_backs_off_and_then_is_unavailable(teams_connector: TeamsConnectorStandIn) -> None:
    sleeps: list[float] = []
    connector = connector_for(teams_connector, sleeps=sleeps)
    # A 503 then success: one back-off
    teams_connector.fail_next("PUT", status=503)
    activity_id = connector.send(teams_connector.url, CONVERSATION, MESSAGE)
    connector.update(teams_connector.url, CONVERSATION, activity_id, {"type": "message"})
    assert sleeps == [0.5]
    # Failing every time: growing pauses, then Unavailable (the job is tried later)
    sleeps.clear()
    teams_connector.fail_next("POST", status=500, times=4)
    with pytest.raises(Unavailable):
        connector.send(teams_connector.url, CONVERSATION, MESSAGE)
    assert sleeps == [0.5, 1.0, 2.0]


def test_a_long_retry_after_is_left_to_the_queue(teams_connector: TeamsConnectorStandIn) -> None:
    sleeps: list[float] = []
    connector = connector_for(teams_connector, sleeps=sleeps)
    teams_connector.fail_next("POST", status=429, retry_after=600)
    with pytest.raises(Unavailable):
        connector.send(teams_connector.url, CONVERSATION, MESSAGE)
    assert sleeps == []


def test_a_bot_removed_from_the_conversation_is_unreachable(
    teams_connector: TeamsConnectorStandIn,
) -> None:
    teams_connector.remove_bot(CONVERSATION)
    with pytest.raises(Unreachable) as raised:
        connector_for(teams_connector).send(teams_connector.url, CONVERSATION, MESSAGE)
    assert raised.value.error == "BotNotInConversationRoster"


def test_an_unknown_activity_is_unreachable(teams_connector: TeamsConnectorStandIn) -> None:
    with pytest.raises(Unreachable):
        connector_for(teams_connector).update(teams_connector.url, CONVERSATION, "404", MESSAGE)


def test_a_refused_token_is_renewed_once(teams_connector: TeamsConnectorStandIn) -> None:
    connector = connector_for(teams_connector)
    connector.send(teams_connector.url, CONVERSATION, MESSAGE)
    # GIVEN the connector stops accepting the cached token
    teams_connector._tokens.clear()
    # WHEN the next message goes out THEN a new token is fetched and it goes through
    connector.send(teams_connector.url, CONVERSATION, MESSAGE)
    assert teams_connector.tokens_issued == 2
    assert len(teams_connector.activities) == 2


def test_wrong_credentials_are_a_delivery_error_that_never_shows_the_password(
    teams_connector: TeamsConnectorStandIn, caplog: pytest.LogCaptureFixture,
) -> None:
    token = AppToken(Credentials(APP_ID, "wrong-password", teams_connector.token_url))
    connector = Connector(token, {"127.0.0.1"})
    caplog.set_level(logging.DEBUG)
    with pytest.raises(DeliveryError) as raised:
        connector.send(teams_connector.url, CONVERSATION, MESSAGE)
    assert not isinstance(raised.value, Unavailable | Unreachable)
    assert "wrong-password" not in str(raised.value) + caplog.text
    assert "wrong-password" not in repr(token._credentials)
    assert teams_connector.connector_calls() == []


def test_a_too_large_message_is_refused(teams_connector: TeamsConnectorStandIn) -> None:
    with pytest.raises(DeliveryError) as raised:
        connector_for(teams_connector).send(teams_connector.url, CONVERSATION,
                                            {"type": "message", "text": "x" * 50_000})
    assert raised.value.error == "MessageSizeTooBig"
