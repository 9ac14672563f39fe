"""Signed bodies that are not Slack payloads, through the real Lambda entry point.

Slack retries any 5xx, so each must get a 400 (or a 200 when Slack's payload is merely
one to ignore), a log line saying why, and nothing queued or posted.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.ingress.http_events import parse_http_event
from bot.slack.payloads import MAX_DEPTH, MalformedPayload, check_payload
from handlers import prompt_api, slack_events
from tests.support.events import LambdaContext, load_event, slack_payload, with_body
from tests.support.ingress import IngressStack
from tests.support.signing import signed

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def mention(**changes: Any) -> str:
    """The sample app_mention's body with top-level fields replaced (None removes one)."""
    return _changed(slack_payload("app_mention"), changes)


def mention_event(**changes: Any) -> str:
    """The sample app_mention's body with fields of its `event` replaced."""
    body = slack_payload("app_mention")
    body["event"] = json.loads(_changed(body["event"], changes))
    return json.dumps(body)


def _changed(obj: dict[str, Any], changes: dict[str, Any]) -> str:
    for name, value in changes.items():
        if value is None:
            obj.pop(name, None)
        else:
            obj[name] = value
    return json.dumps(obj)


def interactive(payload: Any) -> str:
    return urlencode({"payload": json.dumps(payload)})


BLOCK_ACTIONS = slack_payload("block_actions")
COMMAND = slack_payload("slash_command")


def command_without(*names: str) -> str:
    return urlencode({k: v for k, v in COMMAND.items() if k not in names})


# (id, body, content type) → 400
MALFORMED: list[tuple[str, str | bytes, str]] = [
    ("json_array", "[1, 2]", JSON),
    ("json_null", "null", JSON),
    ("json_number", "42", JSON),
    ("json_string", '"hello"', JSON),
    ("json_true", "true", JSON),
    ("empty_body", "", JSON),
    ("empty_object", "{}", JSON),
    ("not_json", "{not json", JSON),
    ("truncated_json", mention()[:-5], JSON),
    ("invalid_utf8", b'{"type": "event_callback", "event_id": "\xff\xfe"}', JSON),
    ("deep_array", "[" * 5000 + "]" * 5000, JSON),
    ("deep_object", '{"a":' * 3000 + "1" + "}" * 3000, JSON),
    ("deep_within_python_limits", mention(extra=json.loads("[" * 60 + "]" * 60)), JSON),
    ("type_missing", mention(type=None), JSON),
    ("type_number", mention(type=7), JSON),
    ("type_unknown", mention(type="something_else"), JSON),
    ("event_string", mention(event="hello"), JSON),
    ("event_list", mention(event=[{"type": "app_mention"}]), JSON),
    ("event_number", mention(event=3), JSON),
    ("event_missing", mention(event=None), JSON),
    ("event_id_missing", mention(event_id=None), JSON),
    ("event_id_object", mention(event_id={"id": "Ev1"}), JSON),
    ("team_id_int", mention(team_id=1), JSON),
    ("team_id_missing", mention(team_id=None), JSON),
    ("authorizations_object", mention(authorizations={"team_id": "T0001"}), JSON),
    ("authorizations_string", mention(authorizations="T0001"), JSON),
    ("authorizations_list_of_strings", mention(authorizations=["T0001"]), JSON),
    ("authorization_team_id_list", mention(authorizations=[{"team_id": ["T0001"]}]), JSON),
    ("is_ext_shared_channel_string", mention(is_ext_shared_channel="yes"), JSON),
    ("event_type_missing", mention_event(type=None), JSON),
    ("event_type_number", mention_event(type=1), JSON),
    ("event_text_number", mention_event(text=12345), JSON),
    ("event_text_object", mention_event(text={"t": "x"}), JSON),
    ("event_user_object", mention_event(user={"id": "U0001"}), JSON),
    ("event_user_number", mention_event(user=1), JSON),
    ("event_user_team_list", mention_event(user_team=["T0001"]), JSON),
    ("event_channel_list", mention_event(channel=["C0001"]), JSON),
    ("event_channel_missing", mention_event(channel=None), JSON),
    ("event_ts_object", mention_event(ts={"ts": "1"}), JSON),
    ("event_ts_missing", mention_event(ts=None), JSON),
    ("event_thread_ts_number", mention_event(thread_ts=1795284000.0001), JSON),
    ("event_message_string", mention_event(message="x"), JSON),
    ("challenge_number", json.dumps({"type": "url_verification", "challenge": 5}), JSON),
    ("challenge_missing", json.dumps({"type": "url_verification", "token": "x"}), JSON),
    ("challenge_empty", json.dumps({"type": "url_verification", "challenge": ""}), JSON),
    ("form_command_only", "command=%2Fask&text=hi", FORM),
    ("form_command_no_trigger_id", command_without("trigger_id"), FORM),
    ("form_command_no_user_id", command_without("user_id"), FORM),
    ("form_command_no_channel_id", command_without("channel_id"), FORM),
    ("form_command_no_team_id", command_without("team_id"), FORM),
    ("json_command_with_number", json.dumps({**COMMAND, "user_id": 5}), JSON),
    ("form_garbage", "a=b&c", FORM),
    ("ssl_check_not_one", "ssl_check=0&token=x", FORM),
    ("form_array_text", "[1, 2]", FORM),
    ("payload_not_json", "payload=%7Bnot", FORM),
    ("payload_empty", "payload=", FORM),
    ("payload_array", interactive([1]), FORM),
    ("payload_null", "payload=null", FORM),
    ("payload_number", "payload=5", FORM),
    ("payload_empty_object", interactive({}), FORM),
    ("payload_no_type", interactive({k: v for k, v in BLOCK_ACTIONS.items() if k != "type"}), FORM),
    ("block_actions_no_actions", interactive({**BLOCK_ACTIONS, "actions": []}), FORM),
    ("block_actions_actions_string", interactive({**BLOCK_ACTIONS, "actions": "x"}), FORM),
    ("block_actions_action_no_id", interactive({**BLOCK_ACTIONS, "actions": [{}]}), FORM),
    ("block_actions_team_list", interactive({**BLOCK_ACTIONS, "team": ["id"]}), FORM),
    ("block_actions_enterprise_list", interactive({**BLOCK_ACTIONS, "enterprise": ["id"]}), FORM),
    ("block_actions_user_number", interactive({**BLOCK_ACTIONS, "user": 5}), FORM),
    ("block_actions_view_list", interactive({**BLOCK_ACTIONS, "view": []}), FORM),
    ("view_submission_no_view", interactive({"type": "view_submission", "team": None}), FORM),
    (
        "view_submission_view_no_callback",
        interactive({"type": "view_submission", "view": {}}),
        FORM,
    ),
    ("shortcut_no_callback_id", interactive({"type": "shortcut", "trigger_id": "t"}), FORM),
]


def deliver(body: str | bytes, content_type: str, name: str = "app_mention") -> dict[str, Any]:
    """One signed request through the Lambda entry point, as Lambda runs it."""
    response: dict[str, Any] = slack_events.handler(
        signed(with_body(name, body, content_type)), LambdaContext()
    )
    return response


@pytest.mark.parametrize(
    ("body", "content_type"), [c[1:] for c in MALFORMED], ids=[c[0] for c in MALFORMED]
)
def test_a_signed_body_that_is_not_a_slack_payload_is_400_and_logged(
    lambda_env: IngressStack,
    ingress_logs: list[logging.LogRecord],
    body: str | bytes,
    content_type: str,
) -> None:
    # GIVEN a correctly signed request whose body is not a payload Slack would send
    # WHEN it reaches the Lambda
    response = deliver(body, content_type)

    # THEN it is refused as a client error, with a log line, and nothing happens
    assert response["statusCode"] == 400
    assert json.loads(response["body"]) == {"error": "request body is not a Slack payload"}
    [record] = [r for r in ingress_logs if "not a Slack payload" in r.getMessage()]
    assert record.levelno == logging.WARNING
    assert lambda_env.queued_jobs() == []
    assert lambda_env.slack_api.calls == []


@pytest.mark.parametrize(
    ("case", "body", "content_type", "logged"),
    [
        ("app_mention_without_user", mention_event(user=None), JSON, "ignored"),
        ("message_without_user", mention_event(type="message", user=None), JSON, "ignored"),
        (
            "app_rate_limited",
            json.dumps({"type": "app_rate_limited", "team_id": "T0001", "token": "x"}),
            JSON,
            "app_rate_limited",
        ),
    ],
)
def test_payloads_slack_sends_but_there_is_nothing_to_do_are_acked_and_logged(
    lambda_env: IngressStack,
    ingress_logs: list[logging.LogRecord],
    case: str,
    body: str,
    content_type: str,
    logged: str,
) -> None:
    response = deliver(body, content_type)

    assert response["statusCode"] == 200, case
    assert any(logged in record.getMessage() for record in ingress_logs)
    assert lambda_env.queued_jobs() == []
    assert lambda_env.slack_api.calls == []


@pytest.mark.parametrize(
    ("case", "body", "content_type"),
    [
        ("ssl_check", "ssl_check=1&token=x", FORM),
        ("block_actions", interactive(BLOCK_ACTIONS), FORM),
        ("json_with_charset", mention(), "application/json; charset=utf-8"),
        ("url_verification", load_event("url_verification")["body"], JSON),
        ("message_changed", load_event("message_changed")["body"], JSON),
        (
            "nulls_where_slack_sends_them",
            mention(enterprise_id=None, context_enterprise_id=None),
            JSON,
        ),
    ],
)
def test_well_formed_payloads_still_get_through(
    lambda_env: IngressStack, case: str, body: str, content_type: str
) -> None:
    assert deliver(body, content_type)["statusCode"] == 200, case


def test_a_mention_with_its_fields_intact_is_still_queued(lambda_env: IngressStack) -> None:
    response = deliver(mention(), JSON)

    assert response["statusCode"] == 200
    assert [job.job_id for job in lambda_env.queued_jobs()] == ["Ev08ABCDEF"]


def test_every_sample_slack_event_passes_the_shape_check() -> None:
    # GIVEN the sample events Slack's documentation shapes were copied from
    for name in (
        "app_mention",
        "app_mention_function_url",
        "app_mention_retry",
        "app_mention_slack_connect",
        "block_actions",
        "message_bot",
        "message_changed",
        "message_im",
        "slash_command",
        "slash_command_external",
        "slash_command_function_url",
        "url_verification",
    ):
        request = parse_http_event(load_event(name))
        # THEN each is one of the kinds Bolt routes
        assert check_payload(request.text(), request.header("content-type")), name


def test_nesting_is_limited_before_any_recursion() -> None:
    within = json.dumps(
        {"type": "event_callback", "x": json.loads("[" * (MAX_DEPTH - 2) + "]" * (MAX_DEPTH - 2))}
    )
    beyond = json.dumps(
        {"type": "event_callback", "x": json.loads("[" * MAX_DEPTH + "]" * MAX_DEPTH)}
    )

    with pytest.raises(MalformedPayload, match=r"body\.event is missing"):
        check_payload(within, JSON)  # deep enough to pass the depth check, fails on fields
    with pytest.raises(MalformedPayload, match="nests deeper"):
        check_payload(beyond, JSON)


# Every JSON type in every field of every sample: the class, not the examples above.
ANY_JSON = [None, 0, 1.5, True, "", "x", [], [None], ["id"], {}, {"id": 1}, {"id": "X"}]
REMOVED = object()


def field_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every field and list item inside `value`."""
    if isinstance(value, dict):
        items: list[tuple[Any, Any]] = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return []
    paths: list[tuple[Any, ...]] = []
    for key, child in items:
        paths.append((*prefix, key))
        paths.extend(field_paths(child, (*prefix, key)))
    return paths


def replaced(payload: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    copy: dict[str, Any] = json.loads(json.dumps(payload))
    parent: Any = copy
    for key in path[:-1]:
        parent = parent[key]
    if value is REMOVED:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return copy


@pytest.mark.parametrize(
    "name", ["app_mention_slack_connect", "message_changed", "url_verification", "block_actions"]
)
def test_no_field_of_any_type_makes_a_signed_sample_a_server_error(
    ingress_stack: IngressStack, name: str
) -> None:
    # GIVEN a sample Slack payload, and every field in it replaced by each JSON type in turn
    handler = ingress_stack.slack()
    payload = slack_payload(name)
    outcomes: dict[int, int] = {}
    for path in field_paths(payload):
        for value in [*ANY_JSON, REMOVED]:
            body = json.dumps(replaced(payload, path, value))
            if name == "block_actions":
                body = interactive(json.loads(body))

            # WHEN it is delivered, signed
            status = handler(signed(with_body(name, body)))["statusCode"]

            # THEN it is answered (or refused as malformed), never a server error
            assert status in (200, 400), (path, value, status)
            outcomes[status] = outcomes.get(status, 0) + 1
    assert outcomes[400] > 0 and outcomes[200] > 0


def test_no_field_of_a_slash_command_missing_or_emptied_makes_a_server_error(
    ingress_stack: IngressStack,
) -> None:
    handler = ingress_stack.slack()
    for name in COMMAND:
        for form in ({**COMMAND, name: ""}, {k: v for k, v in COMMAND.items() if k != name}):
            status = handler(signed(with_body("slash_command", urlencode(form), FORM)))
            assert status["statusCode"] in (200, 400), name


def odd(name: str, **parts: Any) -> dict[str, Any]:
    """events/<name>.json with parts of the Lambda event itself replaced."""
    event = load_event(name)
    event.update(parts)
    return event


ODD_EVENTS = [
    ("no_request_context", odd("app_mention", requestContext=None)),
    ("request_context_string", odd("app_mention", requestContext="POST")),
    ("http_list", odd("app_mention", requestContext={"http": ["POST"]})),
    ("headers_list", odd("app_mention", headers=[["content-type", "application/json"]])),
    ("no_headers", odd("app_mention", headers=None)),
    ("no_body", odd("app_mention", body=None)),
    ("body_not_base64", odd("slash_command", body="%%%")),
    ("body_not_ascii_base64", odd("slash_command", body="é==")),
    ("path_parameters_list", odd("prompt_get", pathParameters=["job_id"])),
]


@pytest.mark.parametrize("event", [e for _, e in ODD_EVENTS], ids=[i for i, _ in ODD_EVENTS])
def test_odd_lambda_events_are_refused_not_crashed(
    lambda_env: IngressStack, event: dict[str, Any]
) -> None:
    # GIVEN a Lambda event of a shape API Gateway does not send
    # WHEN it reaches either entry point
    responses = [
        slack_events.handler(event, LambdaContext()),
        prompt_api.handler(event, LambdaContext()),
    ]

    # THEN both entry points answer with a client error and do nothing
    assert all(400 <= response["statusCode"] < 500 for response in responses), responses
    assert lambda_env.queued_jobs() == []
