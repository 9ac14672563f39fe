"""The shape of a signed Slack request body, checked in one place before Bolt parses it.

A signature proves who sent a body, not that it is one of Slack's payloads. Bolt indexes
into whatever it parses (`body["event"]["type"]`, `authorizations[0]`, `team.get("id")`),
so a signed JSON array, `null`, an `event` that is a string or an `authorizations` object
would raise inside Bolt and answer 500, which Slack retries. `check_payload` parses the
body exactly as Bolt will (Bolt's own `parse_body`), then checks:

- nesting depth (Bolt parses the body again, deeper in the stack);
- the type of every field Bolt's context extractors or matchers and the listeners read,
  wherever they look for it (top level, `event`, `message`, `previous_message`, `item`,
  `authorizations[]`, …); a field may be absent or null, never of another type;
- the fields each kind of payload cannot do without (a command's `trigger_id`, an event's
  `event_id` and `event.type`, a challenge that is a string, a feedback or review click's value, …).

It returns the payload's kind, or raises MalformedPayload naming the first problem: the
caller answers 400 and logs it. Only `app_rate_limited` is a kind that is acknowledged
without Bolt (Slack's notice that events were dropped; nothing to do).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt.request.internals import parse_body

from bot.slack.feedback import BadFeedback, check_feedback_payload
from bot.slack.review import check_review_payload
from bot.slack.review_buttons import BadReviewPayload

MAX_DEPTH = 32  # Slack's deepest payloads (rich-text blocks inside an edited message) nest ~15

EVENT_CALLBACK = "event_callback"
URL_VERIFICATION = "url_verification"
APP_RATE_LIMITED = "app_rate_limited"
SLASH_COMMAND = "command"
SSL_CHECK = "ssl_check"
# Kinds acknowledged with 200 and nothing else.
IGNORED_KINDS = frozenset({APP_RATE_LIMITED})


class MalformedPayload(ValueError):
    """A signed body that is not a Slack payload this app can read; the message says why."""


class Fields(dict[str, Any]):
    """An object whose listed fields, when present and not null, match their specs."""


class ListOf:
    def __init__(self, item: Any) -> None:
        self.item = item


class AnyOf:
    def __init__(self, *options: Any) -> None:
        self.options = options


# Where Bolt and the listeners look for ids, and what they expect to find there. The same
# names are read at the top level and, recursively, inside the nested objects below.
_COMMON = Fields(
    type=str,
    subtype=str,
    text=str,
    token=str,
    api_app_id=str,
    event_id=str,
    challenge=str,
    command=str,
    trigger_id=str,
    callback_id=str,
    response_url=str,
    response_urls=ListOf(Fields(response_url=str)),
    enterprise=AnyOf(str, Fields(id=str)),
    enterprise_id=str,
    context_enterprise_id=str,
    is_enterprise_install=AnyOf(bool, str),  # a form field is the string "true"
    is_ext_shared_channel=bool,
    is_bot=bool,
    team=AnyOf(str, Fields(id=str, enterprise_id=str)),
    team_id=str,
    context_team_id=str,
    user_team=str,
    source_team=str,
    user=AnyOf(str, Fields(id=str, team_id=str)),
    user_id=str,
    bot_id=str,
    channel=AnyOf(str, Fields(id=str)),
    channel_id=str,
    channel_type=str,
    ts=str,
    thread_ts=str,
    event_ts=str,
    view=Fields(id=str, type=str, callback_id=str, team_id=str, app_installed_team_id=str,
                private_metadata=str, state=Fields(values=dict)),
    actions=ListOf(Fields(action_id=str, block_id=str, type=str, value=str)),
    action_id=str,
    block_id=str,
    function_execution_id=str,
    bot_access_token=str,
    function_data=Fields(execution_id=str, inputs=dict),
    inputs=dict,
)
for _nested in ("event", "message", "previous_message", "item", "assistant_thread"):
    _COMMON[_nested] = _COMMON
_COMMON["authorizations"] = ListOf(_COMMON)

# For each interactivity type, the fields Bolt's matchers index without checking.
_INTERACTIVITY_REQUIRES: dict[str, tuple[str, ...]] = {
    "block_actions": ("actions",),
    "interactive_message": ("actions", "callback_id"),
    "block_suggestion": ("action_id",),
    "dialog_submission": ("callback_id",),
    "dialog_cancellation": ("callback_id",),
    "dialog_suggestion": ("callback_id",),
    "workflow_step_edit": ("callback_id",),
    "shortcut": ("callback_id",),
    "message_action": ("callback_id",),
    "view_submission": ("view",),
    "view_closed": ("view",),
}
# Events whose payload becomes a question: the listeners read these as plain strings.
_QUESTION_EVENTS = frozenset({"app_mention", "message"})


def bolt_readable(body: str, content_type: str | None) -> str:
    """`body` as Bolt should be handed it, and `check_payload` should see it.

    Bolt takes any form whose text contains "payload" for an interactivity form and, finding
    no `payload` field, reads it as empty: `/ask average payload size` would be lost.
    Percent-encoding that word's first letter leaves every decoded value the same and keeps
    the heuristic from firing."""
    if _media_type(content_type) == "application/json" or body.startswith("{"):
        return body
    if "payload" not in body or "payload" in dict(parse_qsl(body, keep_blank_values=True)):
        return body
    return body.replace("payload", "%70ayload")


def check_payload(body: str, content_type: str | None) -> str:
    """The kind of Slack payload `body` is (`event_callback`, `command`, `block_actions`,
    …), or MalformedPayload."""
    try:
        payload = parse_body(body, _media_type(content_type))
    except RecursionError:
        raise MalformedPayload("the body nests too deeply") from None
    except ValueError as e:  # json.JSONDecodeError is a ValueError
        raise MalformedPayload(f"the body is not valid JSON: {e}") from None
    if not isinstance(payload, dict):
        raise MalformedPayload(f"the body is {_a(payload)} in JSON, not an object")
    if not payload:
        raise MalformedPayload("the body is empty")
    _check_depth(payload)
    _check(payload, _COMMON, "body")
    kind = _kind(payload)
    _check_required(payload, kind)
    return kind


def _media_type(content_type: str | None) -> str | None:
    """The content type as Bolt reads it: without its parameters ("; charset=…")."""
    return content_type.split(";")[0] if content_type else None


def _kind(payload: Mapping[str, Any]) -> str:
    # The order Bolt routes in: the SSL check, then commands, then typed payloads.
    if payload.get(SSL_CHECK) == "1":  # what Bolt's SslCheck answers
        return SSL_CHECK
    if SLASH_COMMAND in payload:
        return SLASH_COMMAND
    kind = payload.get("type")
    if not isinstance(kind, str) or not kind:
        raise MalformedPayload("the body has no payload type")
    if kind in (EVENT_CALLBACK, URL_VERIFICATION, APP_RATE_LIMITED):
        return kind
    if kind in _INTERACTIVITY_REQUIRES:
        return kind
    raise MalformedPayload(f"unknown payload type {kind[:40]!r}")


def _check_required(payload: Mapping[str, Any], kind: str) -> None:
    if kind == SLASH_COMMAND:
        _require(payload, "body", "command", "team_id", "user_id", "channel_id", "trigger_id")
    elif kind == URL_VERIFICATION:
        _require(payload, "body", "challenge")
    elif kind == EVENT_CALLBACK:
        _require(payload, "body", "event", "event_id", "team_id")
        event = payload["event"]
        _require(event, "body.event", "type")
        if event["type"] in _QUESTION_EVENTS:
            _require(event, "body.event", "channel", "ts")
            for name in ("user", "channel"):
                if event.get(name) is not None and not isinstance(event[name], str):
                    raise MalformedPayload(f"body.event.{name} must be a string")
    elif kind in _INTERACTIVITY_REQUIRES:
        _require(payload, "body", *_INTERACTIVITY_REQUIRES[kind])
        if kind == "block_actions":
            _require(payload["actions"][0], "body.actions[0]", "action_id")
        if kind in ("view_submission", "view_closed") and "callback_id" not in payload["view"]:
            raise MalformedPayload("body.view.callback_id is missing")
        try:
            check_feedback_payload(payload, kind)
            check_review_payload(payload, kind)
        except (BadFeedback, BadReviewPayload) as e:
            raise MalformedPayload(str(e)) from None


def _require(obj: Mapping[str, Any], path: str, *names: str) -> None:
    """Each of `names` is present, not null and not empty (a list: at least one item)."""
    for name in names:
        if not obj.get(name):
            raise MalformedPayload(f"{path}.{name} is missing or empty")


# A field's path, built only when a message needs it: (parent path, key), or the root's name.
Path = tuple[Any, str | int] | str


def _check(value: Any, spec: Any, path: Path) -> None:
    if value is None:
        return
    if isinstance(spec, Fields):
        if not isinstance(value, dict):
            raise MalformedPayload(f"{_text(path)} must be an object, not {_a(value)}")
        for name in spec.keys() & value.keys():
            _check(value[name], spec[name], (path, name))
    elif isinstance(spec, ListOf):
        if not isinstance(value, list):
            raise MalformedPayload(f"{_text(path)} must be a list, not {_a(value)}")
        for index, item in enumerate(value):
            if item is None:
                raise MalformedPayload(f"{_text((path, index))} is null")
            _check(item, spec.item, (path, index))
    elif isinstance(spec, AnyOf):
        if any(isinstance(option, type) and isinstance(value, option) for option in spec.options):
            return
        for option in spec.options:
            if isinstance(option, type):
                continue
            try:
                _check(value, option, path)
            except MalformedPayload:
                continue
            return
        raise MalformedPayload(f"{_text(path)} cannot be {_a(value)}")
    elif not isinstance(value, spec):
        raise MalformedPayload(f"{_text(path)} must be {_a(spec())}, not {_a(value)}")


def _text(path: Path) -> str:
    if isinstance(path, str):
        return path
    parent, key = path
    return f"{_text(parent)}[{key}]" if isinstance(key, int) else f"{_text(parent)}.{key}"


def _check_depth(payload: dict[str, Any]) -> None:
    stack: list[tuple[Any, int]] = [(payload, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise MalformedPayload(f"the body nests deeper than {MAX_DEPTH} levels")
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def _a(value: Any) -> str:
    """What JSON calls `value`'s type, with its article: "a string", "an object"."""
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }.get(type(value), type(value).__name__)
