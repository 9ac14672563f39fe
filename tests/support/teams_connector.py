"""A local stand-in of the Bot Connector API and of the token endpoint the bot's token comes
from, on one small threaded HTTP server on 127.0.0.1.

- `POST /token` (the `token_url`): client credentials for APP_ID (the app the front door's
  tests sign for) / APP_PASSWORD, scope
  `https://api.botframework.com/.default`; answers a fresh token (`expires_in` settable).
- `POST /v3/conversations/{id}/activities[/{replyToId}]`: keeps the activity, answers its
  new id. `PUT .../activities/{id}`: replaces a kept activity. `DELETE`: removes it. Each
  needs a token the endpoint handed out (else 401); a conversation named with
  `remove_bot` answers 403 (the bot is not in it).
- `GET /v3/conversations/{id}/members/{memberId}`: a roster member named with
  `set_member` (else 404 MemberNotFound).
- It enforces Teams' message size (MAX_MESSAGE_BYTES of JSON) with a 413, as Teams does.
- Streaming as Teams does it: a POSTed `typing` activity with a `streaminfo` entity starts
  a stream (`streamSequence` 1, text required; 201 with the stream's id) or continues one
  (`streamId` required, a higher `streamSequence`; 202, the streamed message now shows
  its text); a `message` with `streamType` "final" and no sequence ends it. Anything
  else (a stream outside a personal chat, a missing id, a sequence out of order, an
  update after the final) is refused as Teams refuses it (400 or 403
  ContentStreamNotAllowed), as is a PUT on a stream still open (assumed: Teams does not
  say). `streams` holds each stream's sequences and whether it ended.

Every request is recorded (`calls`: method, path, headers, body); `activities` holds the
conversations as they now stand (each activity with its earlier versions). Failures on
demand, for the connector's calls: `fail_next("POST", status=429, retry_after=1)`, or a
5xx.

Usage: `teams_connector.url` is the service URL, `teams_connector.token_url` the token
endpoint; `teams_connector.config()` a TeamsConfig pointing at both.
"""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from bot.job import Job, ReplyTo, utc_now_iso
from bot.teams.config import TeamsConfig
from tests.support.teams_auth import APP_ID

APP_PASSWORD = "teams-test-password"
SCOPE = "https://api.botframework.com/.default"
MAX_MESSAGE_BYTES = 40_000
TOKEN_PATH = "/token"
TENANT = "tenant-1"
# A channel thread's conversation id names the thread's first message.
CHANNEL_THREAD = "19:general@thread.tacv2;messageid=1700000000001"
# Personal (one-to-one) chat ids start "a:"; the only conversations Teams streams in.
PERSONAL_CHAT = "a:1personal-chat"
GROUP_CHAT = "19:group-chat@thread.v2"
STREAMINFO = "streaminfo"


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: Any

    @property
    def conversation(self) -> str | None:
        parts = self.path.split("/")
        return unquote(parts[4]) if len(parts) > 4 and parts[3] == "conversations" else None


@dataclass
class Failure:
    method: str
    status: int
    retry_after: float | None = None


@dataclass
class Stream:
    sequences: list[int] = field(default_factory=list)
    final: bool = False


@dataclass
class Activity:
    id: str
    conversation: str
    body: dict[str, Any]
    reply_to_id: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)


class TeamsConnectorStandIn:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.activities: dict[str, Activity] = {}
        self.streams: dict[str, Stream] = {}
        self.expires_in = 3600
        self.tokens_issued = 0
        self._tokens: set[str] = set()
        self._failures: list[Failure] = []
        self._removed: set[str] = set()
        self._members: dict[tuple[str, str], dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> TeamsConnectorStandIn:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                stand_in._handle(self, "POST")

            def do_GET(self) -> None:
                stand_in._handle(self, "GET")

            def do_PUT(self) -> None:
                stand_in._handle(self, "PUT")

            def do_DELETE(self) -> None:
                stand_in._handle(self, "DELETE")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/teams/"

    @property
    def token_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}{TOKEN_PATH}"

    def config(self, **changes: Any) -> TeamsConfig:
        return TeamsConfig(**{
            "app_id": APP_ID, "app_password": APP_PASSWORD, "token_url": self.token_url,
            "service_url_hosts": frozenset({"127.0.0.1"}), **changes,
        })

    def fail_next(self, method: str, *, status: int, retry_after: float | None = None,
                  times: int = 1) -> None:
        with self._lock:
            self._failures += [Failure(method, status, retry_after) for _ in range(times)]

    def set_member(self, conversation_id: str, member_id: str, **fields: Any) -> None:
        """A member the roster describes (`email`, `userPrincipalName`, ...)."""
        self._members[(conversation_id, member_id)] = {"id": member_id, **fields}

    def remove_bot(self, conversation_id: str) -> None:
        self._removed.add(conversation_id)

    def connector_calls(self, method: str | None = None) -> list[Call]:
        return [call for call in self.calls if call.path != TOKEN_PATH
                and (method is None or call.method == method)]

    def in_conversation(self, conversation_id: str) -> list[Activity]:
        return [a for a in self.activities.values() if a.conversation == conversation_id]

    # ---- serving ----------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        path = urlsplit(request.path).path
        raw = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in request.headers.items()}
        body: Any = raw.decode() if path == TOKEN_PATH else (json.loads(raw) if raw else None)
        with self._lock:
            self.calls.append(Call(method, path, headers, body))
            failure = next((f for f in self._failures
                            if f.method == method and path != TOKEN_PATH), None)
            if failure is not None:
                self._failures.remove(failure)
        if failure is not None:
            extra = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            self._reply(request, failure.status, {"error": {"code": "Throttled"
                                                             if failure.status == 429
                                                             else "ServiceError"}}, extra)
            return
        if path == TOKEN_PATH:
            self._reply(request, *self._token(dict(parse_qsl(body))))
            return
        if headers.get("authorization", "").removeprefix("Bearer ") not in self._tokens:
            self._reply(request, 401, {"message": "Authorization has been denied"})
            return
        self._reply(request, *self._activity(method, path, body, raw))

    def _token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if (form.get("grant_type") != "client_credentials" or form.get("client_id") != APP_ID
                or form.get("client_secret") != APP_PASSWORD or form.get("scope") != SCOPE):
            return 400, {"error": "invalid_client"}
        with self._lock:
            self.tokens_issued += 1
            token = f"token-{self.tokens_issued}"
            self._tokens.add(token)
        return 200, {"token_type": "Bearer", "expires_in": self.expires_in,
                     "access_token": token}

    def _activity(self, method: str, path: str, body: Any,
                  raw: bytes) -> tuple[int, dict[str, Any]]:
        parts = path.split("/")
        if method == "GET" and len(parts) == 7 and parts[5] == "members":
            member = self._members.get((unquote(parts[4]), unquote(parts[6])))
            return (200, member) if member else (404, {"error": {"code": "MemberNotFound"}})
        # /teams/v3/conversations/{id}/activities[/{activityId}]
        if len(parts) < 6 or parts[2:4] != ["v3", "conversations"] or parts[5] != "activities":
            return 404, {"error": {"code": "NotFound"}}
        conversation = unquote(parts[4])
        target = unquote(parts[6]) if len(parts) > 6 else None
        if conversation in self._removed:
            return 403, {"error": {"code": "BotNotInConversationRoster"}}
        if len(raw) > MAX_MESSAGE_BYTES:
            return 413, {"error": {"code": "MessageSizeTooBig"}}
        with self._lock:
            info = _streaminfo(body) if method == "POST" else None
            if info is not None:
                return self._stream(conversation, body, info, target)
            if method == "POST":
                activity = Activity(str(next(self._ids)), conversation, body, target)
                self.activities[activity.id] = activity
                return 201, {"id": activity.id}
            kept = self.activities.get(target or "")
            if kept is None or kept.conversation != conversation:
                return 404, {"error": {"code": "ActivityNotFound"}}
            stream = self.streams.get(kept.id)
            if method == "PUT" and stream is not None and not stream.final:
                # Assumed: a stream still open is the streaming protocol's to change.
                return 403, _refused("Content stream is not allowed")
            if method == "PUT":
                kept.history.append(kept.body)
                kept.body = body
                return 200, {"id": kept.id}
            del self.activities[kept.id]
            return 200, {}

    def _stream(self, conversation: str, body: dict[str, Any], info: dict[str, Any],
                 target: str | None) -> tuple[int, dict[str, Any]]:
        """A streaming activity, checked as Teams checks it (the lock held)."""
        if not conversation.startswith("a:"):
            return 403, _refused("Content stream is not allowed")
        kind, stream_type = body.get("type"), info.get("streamType", "streaming")
        sequence, stream_id = info.get("streamSequence"), info.get("streamId")
        if kind == "typing" and stream_type in ("informative", "streaming"):
            if not isinstance(sequence, int):
                return 400, _bad("streamSequence is required")
            if stream_id is None:
                if sequence != 1 or not body.get("text"):
                    return 400, _bad("Start streaming activities should include text and "
                                     "streamSequence 1")
                activity = Activity(str(next(self._ids)), conversation, body, target)
                self.activities[activity.id] = activity
                self.streams[activity.id] = Stream([sequence])
                return 201, {"id": activity.id}
        elif kind == "message" and stream_type == "final":
            if sequence is not None or stream_id is None:
                return 400, _bad("A final streaming message names its stream and no "
                                 "sequence")
        else:
            return 400, _bad("Only start streaming and continue streaming types are allowed "
                             "as a typing activity")
        stream = self.streams.get(str(stream_id))
        kept = self.activities.get(str(stream_id))
        if stream is None or kept is None or kept.conversation != conversation:
            return 400, _bad("Unknown streamId")
        if stream.final:
            return 403, _refused("Content stream is not allowed on an already completed "
                                 "streamed message")
        if sequence is not None:
            if sequence <= stream.sequences[-1]:
                return 400, _bad("streamSequence must increase")
            stream.sequences.append(sequence)
        stream.final = kind == "message"
        kept.history.append(kept.body)
        kept.body = body
        return 202, {}

    @staticmethod
    def _reply(request: BaseHTTPRequestHandler, status: int, body: dict[str, Any],
               headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(data)


def _streaminfo(body: Any) -> dict[str, Any] | None:
    entities = body.get("entities") if isinstance(body, dict) else None
    return next((e for e in entities or [] if isinstance(e, dict)
                 and str(e.get("type", "")).lower() == STREAMINFO), None)


def _bad(message: str) -> dict[str, Any]:
    return {"error": {"code": "BadRequest", "message": message}}


def _refused(message: str) -> dict[str, Any]:
    return {"error": {"code": "ContentStreamNotAllowed", "message": message}}


@pytest.fixture
def teams_connector() -> Iterator[TeamsConnectorStandIn]:
    """A running Bot Connector and token endpoint stand-in."""
    stand_in = TeamsConnectorStandIn().start()
    yield stand_in
    stand_in.stop()


def teams_job(service_url: str, text: str = "how many users signed up in March?", *,
              conversation_id: str = CHANNEL_THREAD, activity_id: str = "1700000000002",
              conversation_type: str = "channel", kind: str = "answer") -> Job:
    """A job as the Teams front door queues it: a message in `conversation_id`."""
    return Job(
        job_id=f"teams-{uuid.uuid4().hex[:12]}",
        source="teams",
        conversation_id=f"{TENANT}:{conversation_id}",
        user_id="29:user-1",
        text=text,
        reply_to=ReplyTo(kind="teams", service_url=service_url,
                         conversation_id=conversation_id, activity_id=activity_id,
                         tenant_id=TENANT, conversation_type=conversation_type),
        received_at=utc_now_iso(),
        kind=kind,
    )
