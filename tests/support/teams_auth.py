"""Bot Framework's token signing, played locally: an OpenID metadata and key set endpoint on
127.0.0.1 publishing a locally generated RSA key, and activities signed with it.

`teams_keys` (per module): the endpoint, started once and reset per test with `reset()`.
`teams_keys.signed(activity or event name, **claims)` is a Lambda event carrying a valid
token for its activity; `rotate()` publishes a new key (a new `kid`) in place of the old;
`fetches` counts the documents served. TEAMS_APP_ID in the tests is `APP_ID`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bot.teams.local_keys import LocalSigningKey, openid_metadata, sign_activity_event
from tests.support.events import load_event

APP_ID = "00000000-0000-4000-8000-00000000b07d"
BOT_ID = f"28:{APP_ID}"
TENANT_ID = "72f988bf-0000-4000-8000-2d7cd011db47"
# Two keys made once per session (RSA key generation is the slow part): the one published,
# and the one a rotation switches to.
_KEYS = [LocalSigningKey.generate("key-1"), LocalSigningKey.generate("key-2")]


class KeyEndpoint:
    def __init__(self) -> None:
        self.key = _KEYS[0]
        self.published: list[dict[str, Any]] = []
        self.fetches: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.reset()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/v1/.well-known/openidconfiguration"

    def start(self) -> KeyEndpoint:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        self.key = _KEYS[0]
        self.published = [self.key.jwk()]
        self.fetches.clear()

    def rotate(self) -> LocalSigningKey:
        """Publish the other key in place of the current one, and sign with it."""
        self.key = _KEYS[1] if self.key is _KEYS[0] else _KEYS[0]
        self.published = [self.key.jwk()]
        return self.key

    def token(self, service_url: str, **claims: Any) -> str:
        return self.key.token(app_id=claims.pop("app_id", APP_ID), service_url=service_url,
                              **claims)

    def signed(self, source: str | dict[str, Any], **claims: Any) -> dict[str, Any]:
        """events/<source>.json, or `source` itself when it is an activity, as a Lambda
        event carrying a token for its serviceUrl (`claims` override the token's)."""
        if isinstance(source, str):
            event = load_event(source)
        else:
            event = load_event("teams_message")
            event["body"] = json.dumps(source)
        if not claims:
            return sign_activity_event(event, self.key, app_id=APP_ID)
        activity = json.loads(event["body"])
        token = self.token(claims.pop("service_url", activity["serviceUrl"]), **claims)
        return {**event, "headers": {**event["headers"], "authorization": f"Bearer {token}"}}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                endpoint.fetches.append(self.path)
                if self.path.endswith("/openidconfiguration"):
                    body = openid_metadata(f"{endpoint.url}/keys")
                elif self.path == "/keys":
                    body = {"keys": endpoint.published}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def activity(**fields: Any) -> dict[str, Any]:
    """The activity of events/teams_message.json (a channel mention), fields replaced."""
    data: dict[str, Any] = json.loads(load_event("teams_message")["body"])
    data.update(fields)
    return data


@pytest.fixture(scope="module")
def teams_keys() -> Iterator[KeyEndpoint]:
    endpoint = KeyEndpoint().start()
    yield endpoint
    endpoint.stop()


@pytest.fixture
def key_endpoint(teams_keys: KeyEndpoint) -> KeyEndpoint:
    teams_keys.reset()
    return teams_keys
