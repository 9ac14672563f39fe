"""A local stand-in of the Slack Web API, reached through `SLACK_API_URL`.

A small threaded HTTP server on 127.0.0.1 that records every call (method, arguments,
token, raw body) and answers the way Slack does for the methods databot uses:
auth.test, chat.postMessage, chat.update, chat.postEphemeral, files.getUploadURLExternal,
the upload URL it hands out, files.completeUploadExternal, conversations.replies,
conversations.history, conversations.info (channels named with `set_channel`), users.info
(people named with `set_user`, their profile email included), the
assistant thread methods (assistant.threads.setStatus, .setSuggestedPrompts, .setTitle:
required channel_id and thread_ts, at most 4 prompts each with a title and a message, at
most 10 loading messages, a title), views.open, usergroups.users.list (groups named with
`set_usergroup`; others are `no_such_subteam`), chat.delete, the streaming methods
(chat.startStream: channel and thread_ts required, and recipient_user_id and
recipient_team_id outside DMs; chat.appendStream / chat.stopStream on a message that is
streaming, else `message_not_in_streaming_state`; at most 12,000 characters of Markdown
per call; stopStream's blocks and metadata checked and kept like chat.postMessage's), and
POSTs to response_url paths. `refuse_streams("feature_not_enabled")` makes
chat.startStream refuse. It enforces Slack's message limits, so a test fails the way Slack
would reject the message: known block types only, 50 blocks, 3,000 characters per section
or context element, 40,000 per message text; 12,000 characters of block text summed over a
message (`msg_blocks_too_long`, a streamed message's text included); `markdown` blocks of
text, 12,000 characters summed over a message; at
most one `table` per message, of 1-100 rows of 1-20 cells each (`raw_text` with text, or
`rich_text`), at most 20 column settings (`align` left/center/right, `is_wrapped`), 10,000
characters of cells; the shape of `context_actions` / `feedback_buttons` and of `actions`
blocks of buttons (text, value, style, a `confirm` dialog); and a modal's (type, title,
submit and close text, blocks, a trigger_id, each `plain_text_input`'s initial value
within its max_length of at most 3,000).

It keeps the messages it accepted (`messages`, `thread()`): chat.update edits one, a
completed upload shares its files as a message in the thread, and message `metadata`
(event_type, event_payload) is kept and returned by conversations.replies / .history
when `include_all_metadata` is set, as Slack does.

assistant.threads.setStatus is taken in channel threads too, as Slack takes it with
chat:write; `refuse_channel_status()` models a workspace that refuses it outside DMs.

Failures on demand: `fail_next("chat.postMessage", error="not_in_channel")` or
`fail_next("chat.update", status=429, retry_after=1)`. Failures at random:
`inject_faults(share=0.1, seed=7)` answers a seeded share of calls with a 429 and
Retry-After, a 5xx, or HTTP 200 `ok: false`; `injected` counts them by kind. An injected
failure is not applied (Slack did not take the message).

Usage in a test:

    def test_x(slack_api):
        client = WebClient(token=slack_api.token, base_url=slack_api.url)
        ...
        assert slack_api.count("chat.postMessage") == 1
"""

from __future__ import annotations

import itertools
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

BOT_TOKEN = "xoxb-test-token"
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_MESSAGE_TEXT = 40000
# assistant.threads.*: at most 4 suggested prompts and 10 loading messages (Slack's
# documented caps); status and loading-message length capped at 100 characters here, a
# cautious bound (Slack documents none; its status line shows about one short sentence).
ASSISTANT_METHODS = ("assistant.threads.setStatus", "assistant.threads.setSuggestedPrompts",
                     "assistant.threads.setTitle")
MAX_PROMPTS = 4
MAX_LOADING_MESSAGES = 10
MAX_STATUS_CHARS = 100
MAX_MARKDOWN_TEXT = 12000
# Block text summed over a message (msg_blocks_too_long in the workspaces that check it).
MAX_BLOCK_TEXT = 12000
MAX_TABLE_ROWS = 100
MAX_TABLE_COLUMNS = 20
MAX_TABLE_CELL_TEXT = 10000
# The block types Slack takes in a message.
BLOCK_TYPES = frozenset({
    "actions", "context", "context_actions", "divider", "file", "header", "image",
    "markdown", "rich_text", "section", "table", "video",
})
STREAM_METHODS = ("chat.startStream", "chat.appendStream", "chat.stopStream")
UPLOAD_PREFIX = "/upload/"
RESPONSE_URL_PREFIX = "/response_url/"


@dataclass
class SlackCall:
    """One request the stand-in received. `method` is the Web API method name, or
    "upload" for a file upload, or "response_url" for a POST to a response_url."""

    method: str
    args: dict[str, Any]
    token: str | None
    body: bytes
    path: str
    # What the stand-in answered (for Web API methods), e.g. {"ok": true, "ts": ...}.
    response: dict[str, Any] | None = None
    # When it arrived (time.time()), for latency measurements.
    at: float = field(default_factory=time.time)


@dataclass
class _Failure:
    status: int
    error: str | None
    retry_after: int | None
    remaining: int


@dataclass
class Message:
    """A message as the stand-in keeps it (the shape conversations.replies returns)."""

    ts: str
    channel: str
    thread_ts: str | None
    text: str = ""
    blocks: list[Any] = field(default_factory=list)
    metadata: dict[str, Any] | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    # A streamed message: the Markdown streamed into it, and whether it is still streaming.
    streamed: str = ""
    streaming: bool = False

    def as_json(self, with_metadata: bool) -> dict[str, Any]:
        shown: dict[str, Any] = {"type": "message", "ts": self.ts,
                                 "text": self.text or self.streamed,
                                 "blocks": self.blocks, "bot_id": "BBOT"}
        if self.thread_ts:
            shown["thread_ts"] = self.thread_ts
        if self.files:
            shown["files"] = self.files
        if with_metadata and self.metadata:
            shown["metadata"] = self.metadata
        return shown


# Injected fault kinds: what the answer looks like.
FAULT_KINDS = ("429", "5xx", "ok_false")


@dataclass
class SlackApiStandIn:
    token: str = BOT_TOKEN
    calls: list[SlackCall] = field(default_factory=list)
    messages: dict[str, Message] = field(default_factory=dict)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    usergroups: dict[str, list[str]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    injected: Counter[str] = field(default_factory=Counter)
    # assistant.threads.setStatus outside DMs (see refuse_channel_status).
    channel_status: bool = True
    _fault_share: float = 0.0
    _fault_rng: random.Random = field(default_factory=random.Random)
    _file_names: dict[str, str] = field(default_factory=dict)
    _failures: dict[str, list[_Failure]] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _ts: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _stream_refusal: str | None = None
    _server: ThreadingHTTPServer | None = None

    # ---- lifecycle -------------------------------------------------------------------

    def start(self) -> SlackApiStandIn:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                stand_in._handle(self)

            def do_GET(self) -> None:
                stand_in._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                """Keep test output quiet."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base(self) -> str:
        assert self._server is not None, "start() the stand-in first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def url(self) -> str:
        """What SLACK_API_URL / WebClient(base_url=...) should be set to."""
        return f"{self.base}/api/"

    def response_url(self, name: str = "hook") -> str:
        return f"{self.base}{RESPONSE_URL_PREFIX}{name}"

    # ---- test controls and queries ---------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls of `method` with a failure: an `{"ok": false,
        "error": error}` body, and/or an HTTP status (429 with Retry-After, 500, ...)."""
        with self._lock:
            self._failures.setdefault(method, []).append(
                _Failure(status=status, error=error, retry_after=retry_after, remaining=times)
            )

    def refuse_channel_status(self) -> None:
        """From now on refuse assistant.threads.setStatus outside DMs: a workspace that
        shows no status line in channel threads (Slack takes it there with chat:write)."""
        with self._lock:
            self.channel_status = False
    def refuse_streams(self, error: str | None = "feature_not_enabled") -> None:
        """From now on chat.startStream answers `ok: false` with `error` (None: accept)."""
        with self._lock:
            self._stream_refusal = error

    def inject_faults(self, share: float, *, seed: int) -> None:
        """From now on answer `share` of the Web API calls (picked by a seeded RNG) with a
        429 (Retry-After: 1), a 500/503, or `ok: false` with `internal_error`."""
        with self._lock:
            self._fault_share = share
            self._fault_rng = random.Random(seed)

    def thread(self, channel: str, thread_ts: str) -> list[Message]:
        """The replies in a thread, oldest first (the parent not included)."""
        with self._lock:
            return sorted((m for m in self.messages.values()
                           if m.channel == channel and m.thread_ts == thread_ts),
                          key=lambda m: float(m.ts))

    def calls_to(self, method: str) -> list[SlackCall]:
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def count(self, method: str) -> int:
        return len(self.calls_to(method))

    def accepted(self, method: str) -> list[SlackCall]:
        """Calls of `method` that Slack accepted ({"ok": true})."""
        return [c for c in self.calls_to(method) if c.response and c.response.get("ok")]

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.messages.clear()
            self.channels.clear()
            self.usergroups.clear()
            self.users.clear()
            self._failures.clear()
            self._stream_refusal = None

    # ---- the server side -------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        split = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        auth = request.headers.get("Authorization") or ""
        if split.path.startswith(UPLOAD_PREFIX):
            # The file's raw bytes: nothing to parse.
            args: dict[str, Any] = {"file_id": split.path.removeprefix(UPLOAD_PREFIX)}
        else:
            args = _parse_args(split.query, body, request.headers.get("Content-Type") or "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else args.get("token")

        if split.path.startswith(UPLOAD_PREFIX):
            method = "upload"
        elif split.path.startswith(RESPONSE_URL_PREFIX):
            method = "response_url"
        else:
            method = split.path.removeprefix("/api/")
        call = SlackCall(method=method, args=args, token=token, body=body, path=split.path)
        with self._lock:
            self.calls.append(call)
            failure = self._take_failure(method) or self._random_failure(method)

        if failure is not None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            call.response = {"ok": False, "error": failure.error or "ratelimited"}
            _reply(request, failure.status, call.response, headers)
            return
        if method in ("upload", "response_url"):
            _reply_text(request, 200, "OK" if method == "upload" else "ok")
            return
        if token != self.token:
            call.response = {"ok": False, "error": "invalid_auth"}
        else:
            with self._lock:
                call.response = self._answer(method, args)
        _reply(request, 200, call.response)

    def _take_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.remaining -= 1
        if failure.remaining <= 0:
            queue.pop(0)
        return failure

    def _random_failure(self, method: str) -> _Failure | None:
        if method == "response_url" or self._fault_rng.random() >= self._fault_share:
            return None
        kind = self._fault_rng.choice(FAULT_KINDS)
        self.injected[kind] += 1
        if kind == "429":
            return _Failure(status=429, error="ratelimited", retry_after=1, remaining=1)
        if kind == "5xx":
            return _Failure(status=self._fault_rng.choice((500, 503)), error="fatal_error",
                            retry_after=None, remaining=1)
        return _Failure(status=200, error="internal_error", retry_after=None, remaining=1)

    def _new_ts(self) -> str:
        return f"1731000000.{next(self._ts):06d}"

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T0001"}
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            problem = _message_problem(args)
            if problem:
                return {"ok": False, "error": problem}
            if method == "chat.update":
                self._edit(args)
                return {"ok": True, "channel": args["channel"], "ts": args.get("ts"), "text": ""}
            ts = self._new_ts()
            if method == "chat.postEphemeral":
                return {"ok": True, "message_ts": ts}
            self.messages[ts] = Message(ts, args["channel"], args.get("thread_ts") or None,
                                        args.get("text") or "", _json_arg(args.get("blocks")),
                                        _json_arg(args.get("metadata")))
            return {"ok": True, "channel": args["channel"], "ts": ts, "message": {"ts": ts}}
        if method in STREAM_METHODS:
            return self._stream(method, args)
        if method == "chat.delete":
            if self.messages.pop(str(args.get("ts")), None) is None:
                return {"ok": False, "error": "message_not_found"}
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
        if method == "files.getUploadURLExternal":
            if not args.get("filename") or not str(args.get("length") or "").isdigit():
                return {"ok": False, "error": "invalid_arguments"}
            file_id = f"F{next(self._ts):08d}"
            self._file_names[file_id] = str(args["filename"])
            return {"ok": True, "upload_url": f"{self.base}{UPLOAD_PREFIX}{file_id}",
                    "file_id": file_id}
        if method == "files.completeUploadExternal":
            return self._share_files(args)
        if method in ("conversations.replies", "conversations.history"):
            return self._read(method, args)
        if method == "conversations.info":
            return self._channel_info(args)
        if method in ASSISTANT_METHODS:
            problem = _assistant_problem(method, args)
            if (method == "assistant.threads.setStatus" and not self.channel_status
                    and not str(args.get("channel_id")).startswith("D")):
                problem = "not_allowed"
            return {"ok": False, "error": problem} if problem else {"ok": True}
        if method == "views.open":
            problem = _view_problem(args)
            if problem:
                return {"ok": False, "error": problem}
            return {"ok": True, "view": {"id": f"V{next(self._ts):08d}",
                                         **_json_arg(args["view"])}}
        if method == "usergroups.users.list":
            return self._usergroup_users(args)
        if method == "users.info":
            user = self.users.get(str(args.get("user")))
            return {"ok": True, "user": user} if user else {"ok": False,
                                                            "error": "user_not_found"}
        return {"ok": False, "error": "unknown_method"}

    def set_user(self, user: str, email: str | None = None) -> None:
        """A person users.info describes, with their profile email when given (others are
        `user_not_found`)."""
        profile = {"real_name": user, **({"email": email} if email else {})}
        with self._lock:
            self.users[user] = {"id": user, "name": user.lower(), "profile": profile}

    def set_usergroup(self, usergroup: str, users: list[str]) -> None:
        """A user group usergroups.users.list lists (others are `no_such_subteam`)."""
        with self._lock:
            self.usergroups[usergroup] = list(users)

    def _usergroup_users(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("usergroup"):
            return {"ok": False, "error": "invalid_arguments"}
        users = self.usergroups.get(str(args["usergroup"]))
        return {"ok": True, "users": users} if users is not None else {
            "ok": False, "error": "no_such_subteam"}
    def _stream(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel")
        markdown = str(args.get("markdown_text") or "") + "".join(
            str(chunk.get("text") or "") for chunk in _json_arg(args.get("chunks")) or []
            if isinstance(chunk, dict) and chunk.get("type") == "markdown_text")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if len(markdown) > MAX_MARKDOWN_TEXT:
            return {"ok": False, "error": "msg_too_long"}
        if method == "chat.startStream":
            if self._stream_refusal:
                return {"ok": False, "error": self._stream_refusal}
            if not args.get("thread_ts"):
                return {"ok": False, "error": "invalid_arguments"}
            if not str(channel).startswith("D") and not (
                    args.get("recipient_user_id") and args.get("recipient_team_id")):
                # Outside DMs (assistant threads are DMs) Slack needs the recipient.
                return {"ok": False, "error": "invalid_arguments"}
            ts = self._new_ts()
            self.messages[ts] = Message(ts, channel, args["thread_ts"], streamed=markdown,
                                        streaming=True)
            return {"ok": True, "channel": channel, "ts": ts}
        message = self.messages.get(str(args.get("ts")))
        if message is None or message.channel != channel:
            return {"ok": False, "error": "message_not_found"}
        if not message.streaming:
            return {"ok": False, "error": "message_not_in_streaming_state"}
        if method == "chat.appendStream":
            message.streamed += markdown
            return {"ok": True, "channel": channel, "ts": message.ts}
        blocks = _json_arg(args.get("blocks"))
        problem = _message_problem({"channel": channel, "blocks": blocks,
                                    "text": message.streamed + markdown},
                                   streamed=len(message.streamed + markdown))
        if problem:
            return {"ok": False, "error": problem}
        message.streamed += markdown
        message.blocks = blocks or []
        message.metadata = _json_arg(args.get("metadata"))
        message.streaming = False
        return {"ok": True, "channel": channel, "ts": message.ts}

    def set_channel(self, channel: str, name: str, topic: str = "", purpose: str = "") -> None:
        """A channel conversations.info describes (others are `channel_not_found`)."""
        with self._lock:
            self.channels[channel] = {"id": channel, "name": name, "topic": {"value": topic},
                                      "purpose": {"value": purpose}}

    def _channel_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(str(args.get("channel")))
        return {"ok": True, "channel": channel} if channel else {
            "ok": False, "error": "channel_not_found"}

    def _edit(self, args: dict[str, Any]) -> None:
        ts = str(args.get("ts"))
        message = self.messages.setdefault(ts, Message(ts, args["channel"], None))
        message.text = args.get("text") or ""
        message.blocks = _json_arg(args.get("blocks")) or []
        if args.get("metadata"):
            # Without `metadata` an edit keeps the message's metadata.
            message.metadata = _json_arg(args["metadata"])

    def _share_files(self, args: dict[str, Any]) -> dict[str, Any]:
        files = _json_arg(args.get("files"))
        uploaded = {c.args["file_id"] for c in self.calls_to("upload")}
        if not files or any(f.get("id") not in uploaded for f in files):
            return {"ok": False, "error": "file_not_found"}
        shared = [{"id": f["id"], "name": self._file_names.get(f["id"], ""),
                   "title": f.get("title")} for f in files]
        if args.get("channel_id"):
            ts = self._new_ts()
            self.messages[ts] = Message(ts, args["channel_id"], args.get("thread_ts") or None,
                                        files=shared)
        return {"ok": True, "files": [{"id": f["id"], "title": f["title"]} for f in shared]}

    def _read(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel")
        if method == "conversations.replies":
            parent = self.messages.get(str(args.get("ts")))
            found = ([parent] if parent else []) + [
                m for m in self.messages.values() if m.thread_ts == args.get("ts")
                and m.channel == channel]
            found.sort(key=lambda m: float(m.ts))
        else:
            found = sorted((m for m in self.messages.values()
                            if m.channel == channel and m.thread_ts is None),
                           key=lambda m: -float(m.ts))
        start = int(args.get("cursor") or 0)
        limit = int(args.get("limit") or 100)
        page = found[start:start + limit]
        with_metadata = str(args.get("include_all_metadata")).lower() in ("1", "true")
        more = start + limit < len(found)
        return {"ok": True, "messages": [m.as_json(with_metadata) for m in page],
                "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}


def _parse_args(query: str, body: bytes, content_type: str) -> dict[str, Any]:
    args: dict[str, Any] = dict(parse_qsl(query))
    if not body:
        return args
    if "application/json" in content_type:
        parsed = json.loads(body)
        if isinstance(parsed, dict):
            args.update(parsed)
    elif "application/x-www-form-urlencoded" in content_type:
        args.update(parse_qsl(body.decode()))
    return args


def _json_arg(value: Any) -> Any:
    """An argument sent as a JSON string (form-encoded calls) or already parsed (JSON)."""
    return json.loads(value) if isinstance(value, str) and value else value


def _message_problem(args: dict[str, Any], *, streamed: int = 0) -> str | None:
    """The error Slack would answer for this message, or None when it would accept it
    (`streamed`: characters of Markdown streamed into it, counted with its blocks' text)."""
    if not args.get("channel"):
        return "channel_not_found"
    blocks = args.get("blocks")
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    text = args.get("text") or ""
    if not text and not blocks:
        return "no_text"
    if len(text) > MAX_MESSAGE_TEXT:
        return "msg_too_long"
    if blocks is None:
        return None
    if not isinstance(blocks, list) or len(blocks) > MAX_BLOCKS:
        return "invalid_blocks"
    if any(not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES
           for block in blocks):
        return "invalid_blocks"
    if sum(block["type"] == "table" for block in blocks) > 1:
        return "invalid_attachments"
    markdown = [block.get("text") for block in blocks if block["type"] == "markdown"]
    if any(not isinstance(text, str) or not text.strip() for text in markdown):
        return "invalid_blocks"
    if sum(len(text) for text in markdown) > MAX_MARKDOWN_TEXT:
        return "msg_blocks_too_long"
    if streamed + sum(len(_block_text(block)) for block in blocks) > MAX_BLOCK_TEXT:
        return "msg_blocks_too_long"
    for block in blocks:
        if block["type"] == "table":
            if _table_problem(block):
                return "invalid_blocks"
            continue
        if block["type"] == "markdown":
            continue
        texts = [(block.get("text") or {}).get("text", "")]
        texts += [element.get("text", "") for element in block.get("elements") or []]
        if any(len(text) > MAX_SECTION_TEXT for text in texts):
            return "invalid_blocks"
        if block["type"] in ("section", "header") and not texts[0].strip():
            return "invalid_blocks"
        if block["type"] == "context" and not 0 < len(block.get("elements") or []) <= 10:
            return "invalid_blocks"
        if block["type"] == "context_actions" and not _context_actions_valid(block):
            return "invalid_blocks"
        if block["type"] == "actions" and not _actions_valid(block):
            return "invalid_blocks"
    return None


def _block_text(block: dict[str, Any]) -> str:
    """The text a block shows, as Slack sums it for msg_blocks_too_long."""
    if block["type"] == "markdown":
        return str(block.get("text") or "")
    if block["type"] == "table":
        return "".join(str(cell.get("text") or "") for row in block.get("rows") or []
                       for cell in row if isinstance(cell, dict))
    texts = [str((block.get("text") or {}).get("text", ""))]
    texts += [str(element.get("text", "")) for element in block.get("elements") or []
              if isinstance(element.get("text", ""), str)]
    return "".join(texts)


MAX_CONTEXT_ACTIONS = 5
MAX_FEEDBACK_BUTTON_TEXT = 75
MAX_FEEDBACK_VALUE = 2000
MAX_ACTION_ID = 255


def _context_actions_valid(block: dict[str, Any]) -> bool:
    """A `context_actions` block as Slack takes it: 1–5 feedback_buttons or icon_button
    elements; feedback buttons each with plain_text text (≤ 75) and a value (≤ 2,000)."""
    elements = block.get("elements")
    if not isinstance(elements, list) or not 0 < len(elements) <= MAX_CONTEXT_ACTIONS:
        return False
    for element in elements:
        if not isinstance(element, dict):
            return False
        if len(str(element.get("action_id") or "")) > MAX_ACTION_ID:
            return False
        if element.get("type") == "icon_button":
            continue
        if element.get("type") != "feedback_buttons":
            return False
        for name in ("positive_button", "negative_button"):
            button = element.get(name)
            if not isinstance(button, dict):
                return False
            text = button.get("text") or {}
            value = button.get("value")
            if text.get("type") != "plain_text" or not 0 < len(text.get("text") or "") <= \
                    MAX_FEEDBACK_BUTTON_TEXT:
                return False
            if not isinstance(value, str) or not 0 < len(value) <= MAX_FEEDBACK_VALUE:
                return False
    return True


MAX_ACTIONS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
BUTTON_STYLES = ("primary", "danger")
# A confirmation dialog's title, text, confirm and deny button texts.
CONFIRM_LIMITS = {"title": 100, "text": 300, "confirm": 30, "deny": 30}


def _actions_valid(block: dict[str, Any]) -> bool:
    """An `actions` block of buttons as Slack takes it: 1–25 elements; each button with an
    action_id (≤ 255), plain_text text (≤ 75), an optional value (≤ 2,000) and style, and
    an optional `confirm` dialog (plain_text title ≤ 100, text ≤ 300, confirm and deny
    ≤ 30)."""
    elements = block.get("elements")
    if not isinstance(elements, list) or not 0 < len(elements) <= MAX_ACTIONS:
        return False
    for element in elements:
        if not isinstance(element, dict) or element.get("type") != "button":
            return False
        if not 0 < len(str(element.get("action_id") or "")) <= MAX_ACTION_ID:
            return False
        if not _plain_text(element.get("text"), MAX_BUTTON_TEXT):
            return False
        value = element.get("value", "")
        if not isinstance(value, str) or len(value) > MAX_BUTTON_VALUE:
            return False
        if element.get("style", "primary") not in BUTTON_STYLES:
            return False
        confirm = element.get("confirm")
        if confirm is not None and not (
            isinstance(confirm, dict)
            and all(_plain_text(confirm.get(name), limit)
                    for name, limit in CONFIRM_LIMITS.items())
            and confirm.get("style", "primary") in BUTTON_STYLES
        ):
            return False
    return True


def _plain_text(text: Any, limit: int) -> bool:
    return isinstance(text, dict) and text.get("type") == "plain_text" and \
        0 < len(text.get("text") or "") <= limit


MAX_VIEW_TITLE = 24
MAX_VIEW_BUTTON = 24
MAX_VIEW_BLOCKS = 100
MAX_PRIVATE_METADATA = 3000


def _view_problem(args: dict[str, Any]) -> str | None:
    """The error views.open would answer, or None: a trigger_id, and a modal with a
    plain_text title (≤ 24), submit and close (≤ 24), 1–100 blocks each with a type (an
    input block with a label and an element), private_metadata ≤ 3,000 characters."""
    if not args.get("trigger_id"):
        return "invalid_arguments"
    view = _json_arg(args.get("view"))
    if not isinstance(view, dict) or view.get("type") != "modal":
        return "invalid_arguments"
    for name, limit, required in (("title", MAX_VIEW_TITLE, True),
                                  ("submit", MAX_VIEW_BUTTON, False),
                                  ("close", MAX_VIEW_BUTTON, False)):
        text = view.get(name)
        if text is None and not required:
            continue
        if not isinstance(text, dict) or text.get("type") != "plain_text" or \
                not 0 < len(text.get("text") or "") <= limit:
            return "invalid_arguments"
    if len(view.get("private_metadata") or "") > MAX_PRIVATE_METADATA:
        return "invalid_arguments"
    blocks = view.get("blocks")
    if not isinstance(blocks, list) or not 0 < len(blocks) <= MAX_VIEW_BLOCKS:
        return "invalid_arguments"
    for block in blocks:
        if not isinstance(block, dict) or not block.get("type"):
            return "invalid_arguments"
        if block["type"] == "input" and not (block.get("label") and block.get("element")):
            return "invalid_arguments"
        if block["type"] == "input" and _text_input_problem(block["element"]):
            return "invalid_arguments"
    if any(b["type"] == "input" for b in blocks) and "submit" not in view:
        return "invalid_arguments"  # Slack needs a submit button for a modal with inputs
    return None


MAX_TEXT_INPUT = 3000


def _text_input_problem(element: Any) -> str | None:
    """What Slack refuses in a `plain_text_input`: no action_id, a max_length over 3,000,
    an initial_value longer than the max_length."""
    if not isinstance(element, dict) or element.get("type") != "plain_text_input":
        return None
    if not element.get("action_id"):
        return "action_id is required"
    limit = element.get("max_length", MAX_TEXT_INPUT)
    if not isinstance(limit, int) or not 0 < limit <= MAX_TEXT_INPUT:
        return "max_length: 1 to 3,000"
    initial = element.get("initial_value")
    if initial is not None and not (isinstance(initial, str) and len(initial) <= limit):
        return "initial_value: at most max_length characters"
    return None


def _assistant_problem(method: str, args: dict[str, Any]) -> str | None:
    """The error Slack would answer for an assistant.threads.* call, or None."""
    if not args.get("channel_id") or not args.get("thread_ts"):
        return "invalid_arguments"
    if method == "assistant.threads.setStatus":
        status = args.get("status")
        loading = _json_arg(args.get("loading_messages")) or []
        if not isinstance(status, str) or len(status) > MAX_STATUS_CHARS:
            return "invalid_arguments"
        if not isinstance(loading, list) or len(loading) > MAX_LOADING_MESSAGES or any(
                not isinstance(m, str) or not m or len(m) > MAX_STATUS_CHARS for m in loading):
            return "invalid_arguments"
    elif method == "assistant.threads.setSuggestedPrompts":
        prompts = _json_arg(args.get("prompts"))
        if not isinstance(prompts, list) or not 0 < len(prompts) <= MAX_PROMPTS or any(
                not isinstance(p, dict) or not p.get("title") or not p.get("message")
                for p in prompts):
            return "invalid_arguments"
    elif not args.get("title"):
        return "invalid_arguments"
    return None


def _table_problem(block: dict[str, Any]) -> str | None:
    """What makes a table block invalid, or None."""
    rows = block.get("rows")
    if not isinstance(rows, list) or not 0 < len(rows) <= MAX_TABLE_ROWS:
        return "rows: 1 to 100"
    if any(not isinstance(row, list) or not 0 < len(row) <= MAX_TABLE_COLUMNS for row in rows):
        return "cells per row: 1 to 20"
    if len({len(row) for row in rows}) > 1:
        return "rows of different lengths"
    cells = [cell for row in rows for cell in row]
    for cell in cells:
        if not isinstance(cell, dict):
            return "a cell is not an object"
        if cell.get("type") == "raw_text":
            if not isinstance(cell.get("text"), str) or not cell["text"]:
                return "raw_text needs text"
        elif cell.get("type") != "rich_text" or not cell.get("elements"):
            return "cells are raw_text or rich_text"
    if sum(len(cell.get("text", "")) for cell in cells) > MAX_TABLE_CELL_TEXT:
        return "over 10,000 characters of cells"
    settings = block.get("column_settings")
    if settings is None:
        return None
    if not isinstance(settings, list) or len(settings) > MAX_TABLE_COLUMNS:
        return "column_settings: at most 20"
    for setting in settings:
        if setting is None:
            continue
        if not isinstance(setting, dict) or set(setting) - {"align", "is_wrapped"}:
            return "column setting fields: align, is_wrapped"
        if setting.get("align", "left") not in ("left", "center", "right"):
            return "align: left, center or right"
        if not isinstance(setting.get("is_wrapped", False), bool):
            return "is_wrapped: a boolean"
    return None


def _reply(
    request: BaseHTTPRequestHandler,
    status: int,
    payload: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> None:
    data = json.dumps(payload).encode()
    request.send_response(status)
    request.send_header("Content-Type", "application/json; charset=utf-8")
    request.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        request.send_header(name, value)
    request.end_headers()
    request.wfile.write(data)


def _reply_text(request: BaseHTTPRequestHandler, status: int, text: str) -> None:
    data = text.encode()
    request.send_response(status)
    request.send_header("Content-Type", "text/plain; charset=utf-8")
    request.send_header("Content-Length", str(len(data)))
    request.end_headers()
    request.wfile.write(data)


@pytest.fixture
def slack_api() -> Iterator[SlackApiStandIn]:
    """A running Slack Web API stand-in; `slack_api.url` is its SLACK_API_URL."""
    stand_in = SlackApiStandIn().start()
    yield stand_in
    stand_in.stop()
