"""Signing and reading API Gateway / Function URL events."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest
from slack_sdk.signature import SignatureVerifier

from bot.ingress.http_events import BadEvent, parse_http_event
from bot.slack.signing import is_signed, sign_event
from tests.support.events import load_event
from tests.support.signing import SIGNING_SECRET


def test_signature_is_slacks_v0_hmac_sha256() -> None:
    # GIVEN an event signed at a known time
    event = sign_event(load_event("app_mention"), SIGNING_SECRET, timestamp=1795284000)

    # THEN the signature is HMAC-SHA256 over "v0:<timestamp>:<body>", computed by hand
    base = f"v0:1795284000:{event['body']}".encode()
    expected = "v0=" + hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()
    assert event["headers"]["x-slack-signature"] == expected
    assert event["headers"]["x-slack-request-timestamp"] == "1795284000"


def test_signing_a_base64_event_signs_the_decoded_body() -> None:
    event = sign_event(load_event("slash_command"), SIGNING_SECRET)
    request = parse_http_event(event)

    assert request.text().startswith("token=")
    assert SignatureVerifier(SIGNING_SECRET).is_valid_request(request.text(), request.headers)


def test_signing_replaces_old_signature_headers_and_leaves_the_original_alone() -> None:
    original = load_event("app_mention")
    original["headers"]["X-Slack-Signature"] = "v0=stale"

    event = sign_event(original, SIGNING_SECRET)

    assert "X-Slack-Signature" not in event["headers"]
    assert original["headers"]["X-Slack-Signature"] == "v0=stale"
    assert "x-slack-signature" not in original["headers"]


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [
        (None, "v0=abc"),
        ("1795284000", None),
        ("not-a-number", "v0=abc"),
        ("-5", "v0=abc"),
        ("１２３", "v0=abc"),  # digits, but not ASCII ones
        ("", ""),
    ],
)
def test_malformed_signature_headers_are_not_signed(
    timestamp: str | None, signature: str | None
) -> None:
    headers = {
        name: value
        for name, value in (
            ("x-slack-request-timestamp", timestamp),
            ("x-slack-signature", signature),
        )
        if value is not None
    }
    assert not is_signed(SIGNING_SECRET, headers, b"{}")


def test_a_fresh_valid_signature_is_signed_and_a_stale_one_is_not() -> None:
    fresh = parse_http_event(sign_event(load_event("app_mention"), SIGNING_SECRET))
    stale_event = sign_event(load_event("app_mention"), SIGNING_SECRET, int(time.time()) - 301)
    stale = parse_http_event(stale_event)

    assert is_signed(SIGNING_SECRET, fresh.headers, fresh.raw_body)
    assert not is_signed(SIGNING_SECRET, stale.headers, stale.raw_body)
    assert not is_signed(SIGNING_SECRET, fresh.headers, fresh.raw_body + b" ")
    assert not is_signed("another-secret", fresh.headers, fresh.raw_body)


def test_the_signature_covers_the_bytes_so_a_body_that_is_not_utf8_is_verifiable() -> None:
    # GIVEN a body that is not UTF-8, sent base64-encoded and signed over its bytes
    event = load_event("app_mention")
    event["body"] = base64.b64encode(b'{"type": "\xff"}').decode()
    event["isBase64Encoded"] = True

    request = parse_http_event(sign_event(event, SIGNING_SECRET))

    # THEN the signature checks out, and only reading it as text fails
    assert is_signed(SIGNING_SECRET, request.headers, request.raw_body)
    with pytest.raises(BadEvent, match="UTF-8"):
        request.text()


def test_our_signature_is_the_one_slack_sdk_computes() -> None:
    request = parse_http_event(sign_event(load_event("slash_command"), SIGNING_SECRET))

    assert SignatureVerifier(SIGNING_SECRET).is_valid_request(request.text(), request.headers)


def test_http_api_and_function_url_events_read_the_same() -> None:
    api = parse_http_event(load_event("slash_command"))
    url = parse_http_event(load_event("slash_command_function_url"))

    assert (api.method, url.method) == ("POST", "POST")
    assert api.raw_body == url.raw_body
    assert api.path == "/slack/events"
    assert url.path == "/"
    assert url.domain is not None
    assert url.domain.endswith(".lambda-url.us-east-1.on.aws")


def test_headers_are_read_case_insensitively() -> None:
    event = load_event("app_mention")
    event["headers"] = {"Content-Type": "application/json", "X-Slack-Retry-Num": "2"}

    request = parse_http_event(event)

    assert request.header("x-slack-retry-num") == "2"
    assert request.header("X-Slack-Retry-Num") == "2"


@pytest.mark.parametrize("body", ["not base64!", "é=="])
def test_an_unreadable_base64_body_is_a_bad_event(body: str) -> None:
    event = load_event("slash_command")
    event["body"] = body

    with pytest.raises(BadEvent, match="base64"):
        parse_http_event(event)
